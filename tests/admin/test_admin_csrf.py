"""CSRF of the workspace's forms and the session cookie, through the real login form of a
real server on SQLite and PostgreSQL (the mutation run of admin/auth.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from rostra.services.staff_sign_in import SESSION_TTL
from tests.admin.conftest import PASSWORD, Newsroom, StaffMember, parse, staff_service
from tests.admin.test_access import _state
from tests.conftest import ORIGIN, LiveServer, Reader, running_server

ADMIN_TOKEN = "csrf-test-admin-token"


def test_a_form_may_carry_its_csrf_token_in_the_header(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("Please moderate me")
    response = room.moderator.post(f"/admin/act?only={comment_id}", {"action": "approve"},
                                   csrf=False, headers={"X-CSRF-Token": room.moderator.csrf})
    assert response.status_code == 303, response.text[:500]
    assert _state(room, comment_id) == "approved"


def test_it_says_why_it_refused_a_form(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("Please moderate me")
    for token in ("", "0" * 64, room.outsider.csrf):
        response = room.moderator.post(f"/admin/act?only={comment_id}",
                                       {"action": "approve", "csrf": token}, csrf=False)
        assert response.status_code == 403, token
        error = parse(response).xpath('//p[@class="error"]')[0]
        assert error.get("data-code") == "csrf_failed"
        assert error.text_content().strip() == (
            "the form is out of date or came from another site; reload the page and try "
            "again")
    assert _state(room, comment_id) == "pending"


def test_each_session_has_a_csrf_token_of_its_own(newsroom: Newsroom) -> None:
    room = newsroom
    with room.server.client() as http:
        second = StaffMember(room.moderator.name, http)
        assert second.login().status_code == 303
        assert len(second.csrf) == 64 and second.csrf != room.moderator.csrf
        comment_id = room.held("Please moderate me")
        # The other browser's token is no good in this one.
        refused = second.post(f"/admin/act?only={comment_id}",
                              {"action": "approve", "csrf": room.moderator.csrf}, csrf=False)
        assert refused.status_code == 403
        assert second.post(f"/admin/act?only={comment_id}",
                           {"action": "approve"}).status_code == 303
    assert _state(room, comment_id) == "approved"


def test_the_session_cookie_lasts_a_session_and_is_not_secure_over_plain_http(
    newsroom: Newsroom,
) -> None:
    room = newsroom
    with room.server.client() as http:
        response = StaffMember(room.moderator.name, http).login()
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("rostra_staff="))
    attributes = {part.strip().split("=")[0].lower(): part.strip().partition("=")[2]
                  for part in cookie.split(";")[1:]}
    assert attributes["max-age"] == str(int(SESSION_TTL.total_seconds()))
    assert attributes["path"] == "/"
    # Over plain http a Secure cookie would never come back: it is set only behind https.
    assert "secure" not in attributes


def test_the_audit_log_names_the_staff_member_and_their_number(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("Please moderate me")
    assert room.moderator.post(f"/admin/act?only={comment_id}",
                               {"action": "approve"}).status_code == 303
    number = staff_service(room.server).by_name(room.moderator.name).id
    response = room.owner.get("/admin/audit.json", site=room.site_a)
    assert response.status_code == 200, response.text
    [entry] = [e for e in response.json()["entries"] if e["target"] == f"comment:{comment_id}"]
    assert entry["actor"] == f"{room.moderator.name} (#{number})"


def test_signing_out_drops_the_cookie_for_the_whole_site(newsroom: Newsroom) -> None:
    room = newsroom
    with room.server.client() as http:
        member = StaffMember(room.moderator.name, http)
        member.login()
        response = member.post("/admin/logout")
    assert response.status_code == 303
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("rostra_staff="))
    attributes = {part.strip().split("=")[0].lower(): part.strip().partition("=")[2]
                  for part in cookie.split(";")[1:]}
    assert attributes["max-age"] == "0" and attributes["path"] == "/"


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def token_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with running_server(request.param, admin_token=ADMIN_TOKEN) as live:
        yield live


def test_a_bearer_token_needs_no_csrf_token(token_server: LiveServer) -> None:
    site = token_server.add_site("k" + secrets.token_hex(5), [ORIGIN], moderation={
        "mode": "all", "toxicity": False})
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with token_server.client() as http:
        posted = Reader("Ana", http, site).post("/story", "Please moderate me")
        comment_id = posted.json()["comment"]["id"]
        assert posted.json()["comment"]["state"] == "pending"
        # No cookie, so no ambient authority for another site's page to borrow.
        response = http.post(f"/admin/act?only={comment_id}", data={"action": "approve"},
                             headers=bearer)
        assert response.status_code == 303, response.text[:500]
        shown = http.get(f"/api/moderation/comments/{comment_id}", headers=bearer)
        assert shown.json()["comment"]["state"] == "approved"
        # The audit log names the token, which has no staff number.
        audit = http.get("/admin/audit.json", params={"site": site}, headers=bearer)
        assert audit.status_code == 200, audit.text
        [entry] = [e for e in audit.json()["entries"] if e["target"] == f"comment:{comment_id}"]
        assert entry["actor"] == "admin-token"
        # Its pages carry no CSRF token either: there is no session to bind one to.
        page = http.get("/admin/queue", headers=bearer)
        assert page.status_code == 200
        assert parse(page).xpath("//main/@data-csrf") == [""]


def _cookie(response: Any, name: str) -> dict[str, str]:
    value = next(v for k, v in response.headers.multi_items()
                 if k == "set-cookie" and v.startswith(f"{name}="))
    return {part.strip().split("=")[0].lower(): part.strip().partition("=")[2]
            for part in value.split(";")[1:]}


def test_the_login_form_keeps_its_nonce_in_a_short_lived_cookie(newsroom: Newsroom) -> None:
    room = newsroom
    with room.server.client() as http:
        first = http.get("/admin/login")
        attributes = _cookie(first, "rostra_login")
        assert attributes["max-age"] == "3600" and attributes["path"] == "/admin"
        assert "httponly" in attributes and attributes["samesite"].lower() == "strict"
        assert "secure" not in attributes
        token = parse(first).xpath('//input[@name="csrf"]/@value')[0]
        # A second look at the form (another tab) keeps the nonce: both forms work.
        again = http.get("/admin/login")
        assert parse(again).xpath('//input[@name="csrf"]/@value')[0] == token
        response = http.post("/admin/login", data={
            "csrf": token, "name": room.moderator.name, "password": PASSWORD, "code": "",
            "next": "/admin/queue"})
        assert response.status_code == 303, response.text[:500]
