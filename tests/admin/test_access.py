"""Every role is refused, by the server, what it may not do: per endpoint and by URL.

Personas (tests/admin/conftest.py): an administrator, the owner and a moderator of site
A, and an outsider who moderates only site B.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.admin.conftest import Newsroom, StaffMember, parse


def _state(room: Newsroom, comment_id: int) -> str:
    doc = room.admin.page(f"/admin/comments/{comment_id}")
    return str(doc.xpath('string(//article//span[contains(@class,"state ")])'))


def _endpoints(room: Newsroom, comment_id: int) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """(method, path, form) of every workspace endpoint, by the least role it needs."""
    a = room.site_a
    # a reader account that signed in, for the owner to tie to a staff member
    room.server.services.accounts.sign_in(a, "email:x@a.example", "X", "x@a.example")
    return {
        "moderator": [
            ("GET", f"/admin/queue?site={a}", {}),
            ("GET", f"/admin/audit?site={a}", {}),
            ("GET", f"/admin/audit.json?site={a}", {}),
            ("GET", f"/admin/sites/{a}", {}),
            ("GET", f"/admin/sites/{a}/stats.json", {}),
            ("GET", f"/admin/comments/{comment_id}", {}),
            ("POST", f"/admin/act?only={comment_id}", {"action": "approve"}),
            ("POST", f"/admin/act?only={comment_id}", {"action": "pinned"}),
            ("POST", f"/admin/comments/{comment_id}/edit", {"text": "changed"}),
            ("POST", f"/admin/comments/{comment_id}/ban", {"kind": "voter", "duration": "1d"}),
        ],
        "owner": [
            ("GET", f"/admin/sites/{a}/settings", {}),
            ("POST", f"/admin/sites/{a}/settings", {"name": "Taken over", "mode": "post"}),
            ("GET", f"/admin/sites/{a}/staff", {}),
            ("POST", f"/admin/sites/{a}/staff", {"name": room.outsider.name, "role": "owner"}),
            ("POST", f"/admin/sites/{a}/staff/readers",
             {"name": room.outsider.name, "subject": "email:x@a.example", "op": "tie"}),
        ],
        "admin": [
            ("GET", "/admin/sites/new", {}),
            ("POST", "/admin/sites/new", {"id": "stolen", "name": "Stolen"}),
            ("GET", "/admin/staff", {}),
            ("POST", "/admin/staff", {"name": "intruder", "password": "long enough pw"}),
        ],
    }


def _call(member: StaffMember, method: str, path: str, form: dict[str, Any]) -> httpx.Response:
    if method == "GET":
        return member.http.get(path)
    return member.post(path, form)


@pytest.mark.parametrize("tier", ["moderator", "owner", "admin"])
def test_it_refuses_every_endpoint_to_a_role_below_it(newsroom: Newsroom, tier: str) -> None:
    room = newsroom
    comment_id = room.held("Please moderate me")
    below = {"moderator": [room.outsider], "owner": [room.moderator, room.outsider],
             "admin": [room.owner, room.moderator, room.outsider]}[tier]
    for member in below:
        for method, path, form in _endpoints(room, comment_id)[tier]:
            response = _call(member, method, path, form)
            assert response.status_code == 403, (member.name, method, path, response.text[:200])
    # Nothing they tried happened.
    assert _state(room, comment_id) == "pending"
    assert room.server.services.sites.get(room.site_a).name != "Taken over"
    assert room.outsider.queue_ids(site=room.site_b) == []


def test_it_lets_each_role_use_its_endpoints(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("Please moderate me")
    for tier, member in (("moderator", room.moderator), ("owner", room.owner)):
        for method, path, form in _endpoints(room, comment_id)[tier]:
            if "/ban" in path or "stolen" in path:
                continue
            response = _call(member, method, path, form)
            assert response.status_code in (200, 303), (tier, method, path, response.text[:300])
    admin_gets = [e for e in _endpoints(room, comment_id)["admin"] if e[0] == "GET"]
    for method, path, form in admin_gets:
        assert _call(room.admin, method, path, form).status_code == 200


def test_it_sends_strangers_to_the_login_page(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("Please moderate me")
    with room.server.client() as http:
        stranger = StaffMember("nobody", http)
        for endpoints in _endpoints(room, comment_id).values():
            for method, path, form in endpoints:
                response = _call(stranger, method, path, form)
                if method == "GET" and ".json" not in path:
                    assert response.status_code == 303, path
                    assert response.headers["location"].startswith("/admin/login?next=")
                else:  # a change, or JSON (tests/admin/test_json_problems.py)
                    assert response.status_code == 401, path
    assert _state(room, comment_id) == "pending"


def test_it_refuses_another_sites_queue_by_url(newsroom: Newsroom) -> None:
    room = newsroom
    mine = room.held("On site B", site=room.site_b)
    theirs = room.held("On site A")
    assert room.outsider.queue_ids() == [mine]
    response = room.outsider.get("/admin/queue", site=room.site_a)
    assert response.status_code == 403
    assert "not moderator" in parse(response).xpath('string(//p[@class="error"])')
    assert room.outsider.get(f"/admin/comments/{theirs}").status_code == 403
    # A bulk action that slips in a comment of another site changes nothing.
    response = room.outsider.post("/admin/act", {"action": "approve", "id": [mine, theirs]})
    assert response.status_code == 403
    assert _state(room, mine) == "pending" and _state(room, theirs) == "pending"
    # An administrator sees both.
    assert set(room.admin.queue_ids()) >= {mine, theirs}


def test_it_refuses_a_form_without_its_csrf_token(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("Please moderate me")
    response = room.moderator.post(f"/admin/act?only={comment_id}", {"action": "approve"},
                                   csrf=False)
    assert response.status_code == 403
    assert parse(response).xpath('string(//p[@class="error"]/@data-code)') == "csrf_failed"
    forged = room.moderator.post(f"/admin/act?only={comment_id}",
                                 {"action": "approve", "csrf": room.outsider.csrf}, csrf=False)
    assert forged.status_code == 403
    assert _state(room, comment_id) == "pending"


def test_it_sets_a_hardened_session_cookie(newsroom: Newsroom) -> None:
    room = newsroom
    with room.server.client() as http:
        member = StaffMember(room.moderator.name, http)
        response = member.login()
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("rostra_staff="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path"} <= attributes
    assert "samesite=strict" in cookie.lower()
    # The cookie is signed: a made-up value is not a session.
    with room.server.client(cookies={"rostra_staff": "made-up"}) as http:
        assert http.get("/admin/queue").status_code == 303


def test_it_lets_the_staff_api_use_the_session_only_with_a_csrf_header(
        newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("Please moderate me")
    api = room.moderator.http
    assert api.get("/api/moderation/queue", params={"site": room.site_a}).status_code == 200
    assert room.outsider.http.get("/api/moderation/queue",
                                  params={"site": room.site_a}).status_code == 403
    bare = api.post(f"/api/moderation/comments/{comment_id}/approve", json={})
    assert bare.status_code == 401
    assert _state(room, comment_id) == "pending"
    ok = api.post(f"/api/moderation/comments/{comment_id}/approve", json={},
                  headers={"X-CSRF-Token": room.moderator.csrf})
    assert ok.status_code == 200, ok.text
    assert _state(room, comment_id) == "approved"


def test_it_signs_out(newsroom: Newsroom) -> None:
    room = newsroom
    with room.server.client() as http:
        member = StaffMember(room.moderator.name, http)
        member.login()
        assert member.get("/admin/queue").status_code == 200
        assert member.post("/admin/logout").status_code == 303
        assert member.get("/admin/queue").status_code == 303
