"""CSRF of the workspace's forms and the session cookie, through the real login form of a
real server on SQLite and PostgreSQL (the mutation run of admin/auth.py)."""

from __future__ import annotations

from rostra.services.staff import SESSION_TTL
from tests.admin.conftest import Newsroom, StaffMember, parse
from tests.admin.test_access import _state


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
