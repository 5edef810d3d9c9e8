"""Cursors are read back only as the server writes them: a most-voted cursor without its
score, or without the moment its ranking was taken, is refused (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json

import pytest

from tests.conftest import Reader


def _decode(cursor: str) -> dict[str, object]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    data: dict[str, object] = json.loads(raw)
    return data


def _encode(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize("drop", ["c", "q"])
def test_it_refuses_a_most_voted_cursor_missing_a_part(ana: Reader, drop: str) -> None:
    for n in range(3):
        assert ana.post("/voted/", f"Comment {n}").status_code == 201
    cursor = ana.page("/voted/", limit=1, sort="votes")["next_cursor"]
    data = _decode(cursor)
    assert data["s"] == "votes" and drop in data
    del data[drop]
    response = ana.http.get("/api/comments", params={
        "site": ana.site, "thread": "/voted/", "sort": "votes", "limit": 1,
        "cursor": _encode(data)})
    assert response.status_code == 422
    assert response.json()["detail"] == "cursor: not a cursor this server gave out"
