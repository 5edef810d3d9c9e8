"""The workspace's JSON endpoints answer every refusal as problem+json, whatever the
request's Accept header says: a bad query parameter, no sign-in, another site's data, an
unknown site (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx
import pytest

from tests.admin.conftest import Newsroom

PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == PROBLEM, response.text[:300]
    body = response.json()
    assert (body["status"], body["code"]) == (status, code), body
    detail: str = body["detail"]
    return detail


@pytest.mark.parametrize("accept", [None, "text/html", "*/*"])
def test_audit_json_answers_its_refusals_as_problems(newsroom: Newsroom,
                                                     accept: str | None) -> None:
    room = newsroom
    headers = {"Accept": accept} if accept else {}
    path = "/admin/audit.json"
    bad = room.owner.http.get(path, params={"site": room.site_a, "since": "yesterday"},
                              headers=headers)
    assert _problem(bad, 422, "invalid_input") == "since: a date such as 2024-05-31"
    with room.server.client() as anonymous:
        _problem(anonymous.get(path, params={"site": room.site_a}, headers=headers),
                 401, "unauthorized")
    _problem(room.outsider.http.get(path, params={"site": room.site_a}, headers=headers),
             403, "forbidden")


@pytest.mark.parametrize("accept", [None, "text/html"])
def test_stats_json_answers_its_refusals_as_problems(newsroom: Newsroom,
                                                     accept: str | None) -> None:
    room = newsroom
    headers = {"Accept": accept} if accept else {}
    path = f"/admin/sites/{room.site_a}/stats.json"
    bad = room.moderator.http.get(path, params={"days": "0"}, headers=headers)
    assert _problem(bad, 422, "invalid_input") == "days: a whole number from 1 to 365"
    with room.server.client() as anonymous:
        _problem(anonymous.get(path, headers=headers), 401, "unauthorized")
    _problem(room.outsider.http.get(path, headers=headers), 403, "forbidden")
    _problem(room.admin.http.get("/admin/sites/no-such-site/stats.json", headers=headers),
             404, "site_not_found")


def test_the_json_endpoints_still_answer_their_data_as_json(newsroom: Newsroom) -> None:
    room = newsroom
    audit = room.owner.http.get("/admin/audit.json", params={"site": room.site_a})
    assert audit.status_code == 200
    assert audit.headers["content-type"] == "application/json"
    assert set(audit.json()) == {"entries", "total"}
    stats = room.moderator.http.get(f"/admin/sites/{room.site_a}/stats.json")
    assert stats.status_code == 200
    assert stats.headers["content-type"] == "application/json"


def test_the_passkey_ceremonies_answer_their_refusals_as_problems(newsroom: Newsroom) -> None:
    # The workspace's script sends Accept: application/json; another client need not.
    room = newsroom
    with room.server.client() as anonymous:
        _problem(anonymous.post("/admin/login/passkey/options", json={"csrf": "forged"}),
                 403, "csrf_failed")
        _problem(anonymous.post("/admin/login/passkey", content=b"not json"),
                 422, "invalid_input")
        for path in ("/admin/account/passkeys/options", "/admin/account/passkeys"):
            _problem(anonymous.post(path, json={}), 401, "unauthorized")
    _problem(room.owner.http.post("/admin/account/passkeys/options", json={}), 403,
             "csrf_failed")
    _problem(room.owner.http.post("/admin/account/passkeys", content=b"[]",
                                  headers={"X-CSRF-Token": room.owner.csrf}),
             422, "invalid_input")
