"""No request, however malformed, gets a 5xx: each case the audit found, on SQLite and
PostgreSQL, answered with a clear 4xx problem instead."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from rostra.cli import main
from tests.admin.conftest import StaffMember, _member
from tests.conftest import ORIGIN, LiveServer

ADMIN = "security-admin-token-" + secrets.token_hex(6)
BIG = 2**63  # one past the largest id either database holds
HUGE = 10**30


def _problem(response: httpx.Response, *statuses: int) -> None:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    if response.headers.get("content-type", "").startswith("application/"):
        assert response.headers["content-type"].startswith("application/problem+json"), (
            response.headers["content-type"])


@pytest.fixture
def admin_http(server: LiveServer) -> Iterator[httpx.Client]:
    # The staff API with a signed-in admin's session is what the workspace uses; a bearer
    # token would need a server of its own, so the admin persona signs in.
    member = _member(server, "sec-" + secrets.token_hex(4), admin=True)
    member.http.headers["X-CSRF-Token"] = member.csrf
    yield member.http
    member.http.close()


@pytest.fixture
def admin_member(server: LiveServer) -> Iterator[StaffMember]:
    member = _member(server, "sec-" + secrets.token_hex(4), admin=True)
    yield member
    member.http.close()


BRACKETED = ["http://[x]/a", "https://[not-an-ip]/story", "http://[::1/a", "http://[]/"]


@pytest.mark.parametrize("thread", BRACKETED)
def test_it_refuses_a_bracketed_host_that_is_not_an_address(
    server: LiveServer, http: httpx.Client, site: str, thread: str
) -> None:
    headers = {"Origin": ORIGIN}
    reads = [
        http.get("/api/comments", params={"site": site, "thread": thread}),
        http.get("/api/counts", params={"site": site, "thread": thread}),
        http.post("/api/counts", json={"site": site, "threads": [thread]}),
        http.get("/api/votes", params={"site": site, "thread": thread}),
        http.get(f"/feeds/{site}/thread.atom", params={"thread": thread}),
        http.get(f"/feeds/{site}/thread.rss", params={"thread": thread}),
        http.get("/api/events", params={"site": site, "thread": thread}),
    ]
    for response in reads:
        # Counts of an unknown thread are zero; anything else is a 4xx.
        assert response.status_code < 500, (response.request.url, response.text[:200])
    writes = [
        http.post("/api/comments", headers=headers,
                  json={"site": site, "thread": thread, "text": "hi"}),
        http.post("/api/comments", headers=headers,
                  json={"site": site, "thread": "/a", "text": "hi", "website": "[x]"}),
        http.post("/api/comments", headers=headers,
                  json={"site": site, "thread": "/a", "text": "hi", "url": thread}),
        http.post("/api/subscriptions", headers=headers,
                  json={"site": site, "thread": thread, "email": "a@b.example"}),
    ]
    for response in writes:
        _problem(response, 422, 503)


def test_it_refuses_a_bracketed_origin_on_the_command_line(tmp_path: object) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--database-url", f"sqlite:///{tmp_path}/db.sqlite3", "site",
                                  "add", "s1", "--name", "S", "--origin", "http://[x]"])
    assert result.exit_code == 1, result.output
    assert "not an origin" in result.output


@pytest.mark.parametrize("number", [BIG, HUGE])
def test_it_answers_ids_past_64_bits_with_a_4xx(
    server: LiveServer, http: httpx.Client, site: str, admin_http: httpx.Client,
    admin_member: StaffMember, number: int
) -> None:
    headers = {"Origin": ORIGIN}
    cases = [
        http.get(f"/api/comments/{number}"),
        http.patch(f"/api/comments/{number}", json={"text": "x"}, headers=headers),
        http.delete(f"/api/comments/{number}", headers=headers),
        http.post(f"/api/comments/{number}/vote", json={"value": 1}, headers=headers),
        http.post(f"/api/comments/{number}/flag", json={"reason": "spam"}, headers=headers),
        http.post("/api/comments", headers=headers,
                  json={"site": site, "thread": "/ids", "text": "hi", "parent_id": number}),
        http.post("/api/subscriptions", headers=headers, json={
            "site": site, "thread": "/ids", "email": "a@b.example", "kind": "replies",
            "comment_id": number}),
        admin_http.get("/api/moderation/queue", params={"site": site, "before": number}),
        admin_http.get(f"/api/moderation/comments/{number}"),
        admin_http.post(f"/api/moderation/comments/{number}/approve", json={}),
        admin_http.post("/api/moderation/bans", json={"site": site, "kind": "ip",
                                                       "comment_id": number}),
        admin_http.post("/api/moderation/bans", json={"site": site, "kind": "account",
                                                       "value": str(number)}),
        admin_http.delete(f"/api/moderation/bans/{number}"),
        admin_http.delete(f"/api/admin/sites/{site}/webhooks/{number}"),
        admin_member.get(f"/admin/comments/{number}"),
        admin_member.post("/admin/act", {"action": "approve", "id": str(number)}),
        http.get("/api/comments", params={"site": site, "thread": "/ids", "limit": "²"}),
        http.get("/api/comments", params={"site": site, "thread": "/ids", "limit": "9" * 5000}),
    ]
    for response in cases:
        assert 400 <= response.status_code < 500, (
            response.request.method, response.request.url, response.status_code,
            response.text[:200])
    # The queue's thread filter falls back to a search for text that is no id.
    for thread in (str(number), "²"):
        assert admin_member.get("/admin/queue", thread=thread).status_code == 200


def test_it_refuses_lone_surrogates_in_json(server: LiveServer, http: httpx.Client,
                                            site: str) -> None:
    headers = {"Origin": ORIGIN, "Content-Type": "application/json"}
    lone = '"\\ud800"'
    bodies = [
        ("/api/counts", f'{{"site": "{site}", "threads": [{lone}]}}'),
        ("/api/comments", f'{{"site": "{site}", "thread": {lone}, "text": "hi"}}'),
        ("/api/comments", f'{{"site": "{site}", "thread": "/s", "text": {lone}}}'),
        ("/api/comments", f'{{"site": "{site}", "thread": "/s", "text": "x", "name": {lone}}}'),
        ("/api/preview", f'{{"site": "{site}", "text": {lone}}}'),
        ("/api/subscriptions", f'{{"site": "{site}", "thread": "/s", "email": {lone}}}'),
    ]
    for path, body in bodies:
        # Refused as malformed JSON (400) or as invalid text (422), never stored.
        _problem(http.post(path, content=body.encode(), headers=headers), 400, 422)
    # In a query string, percent-encoded surrogates are not UTF-8: no 5xx either.
    response = http.get(f"/api/counts?site={site}&thread=%ED%A0%80")
    assert response.status_code < 500


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"a=" + b"x" * (size - 2)
        sent += size


@pytest.mark.parametrize("path", ["/admin/login", "/admin/act", "/notify/confirm",
                                  "/notify/manage", "/api/counts", "/api/comments",
                                  "/api/subscriptions"])
def test_it_answers_a_large_chunked_body_with_413(
    server: LiveServer, http: httpx.Client, path: str
) -> None:
    kind = "application/json" if path.startswith("/api/") else (
        "application/x-www-form-urlencoded")
    response = http.post(path, content=_chunks(10 * 1024 * 1024),
                         headers={"Content-Type": kind})
    assert response.status_code == 413, (response.status_code, response.text[:200])
