"""The edit cookie (``rostra_edit_<id>``, for integrations that keep it) proves a
comment's author only to pages of the comment's own site. It is sent with every site's
requests (SameSite=None, and the server answers every site's origin with credentials):
a page of another site on the same server could fetch a visitor's statements of
reasons or held comment, learn that the visitor wrote it, and read its text."""

from __future__ import annotations

import secrets

import httpx

from tests.conftest import ORIGIN, LiveServer, Reader

OTHER = "https://other-paper.example"


def _held_comment(server: LiveServer, http: httpx.Client) -> tuple[int, str]:
    site = server.add_site("e" + secrets.token_hex(5), [ORIGIN], moderation={"mode": "all"})
    server.add_site("o" + secrets.token_hex(5), [OTHER])
    posted = Reader("Ana", http, site).post("/held", "Waiting for a moderator here.")
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert body["comment"]["state"] == "pending"
    return int(body["comment"]["id"]), str(body["edit_token"])


def test_another_sites_page_cannot_use_the_edit_cookie(server: LiveServer) -> None:
    with server.client() as http:
        comment_id, token = _held_comment(server, http)
        cookie = {"Cookie": f"rostra_edit_{comment_id}={token}"}
        for path in (f"/api/comments/{comment_id}", f"/api/comments/{comment_id}/statements"):
            other = http.get(path, headers={**cookie, "Origin": OTHER})
            assert other.status_code in (401, 404), (path, other.text)
            assert "Waiting for a moderator" not in other.text
            own = http.get(path, headers={**cookie, "Origin": ORIGIN})
            assert own.status_code == 200, (path, own.text)


def test_no_cache_keeps_what_an_edit_token_shows(server: LiveServer) -> None:
    with server.client() as http:
        comment_id, token = _held_comment(server, http)
        cookie = {"Cookie": f"rostra_edit_{comment_id}={token}"}
        for headers in (cookie, {**cookie, "Origin": ORIGIN},
                        {"X-Rostra-Edit-Token": token},
                        {"X-Rostra-Edit-Token": token, "Origin": ORIGIN}):
            own = http.get(f"/api/comments/{comment_id}", headers=headers)
            assert own.status_code == 200 and "Waiting for a moderator" in own.text, headers
            assert own.headers.get("cache-control") == "private, no-store", headers
