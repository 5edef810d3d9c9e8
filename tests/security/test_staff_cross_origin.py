"""Staff surfaces are not readable from other origins, not even the sites' own.

A site's page may read the readers' API with the reader's cookies (CORS), but a page on
a site origin can be on the same registrable domain as Rostra, where the staff session
cookie (SameSite=Strict) is sent too: it must not read a staff page (and its CSRF token)
nor post an /admin form."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.admin.conftest import PASSWORD, StaffMember, staff_service
from tests.conftest import ORIGIN, LiveServer, running_server

ADMIN_TOKEN = "staff-cross-origin-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def token_server() -> Iterator[LiveServer]:
    with running_server("sqlite", admin_token=ADMIN_TOKEN) as live:
        yield live


@pytest.fixture
def admin(token_server: LiveServer) -> Iterator[StaffMember]:
    name = "admin-" + secrets.token_hex(4)
    staff_service(token_server).create_user(name, PASSWORD, is_admin=True)
    member = StaffMember(name, token_server.client())
    assert member.login().status_code == 303
    yield member
    member.http.close()


def _site(server: LiveServer) -> str:
    return server.add_site("x" + secrets.token_hex(5), [ORIGIN])


def _cors(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def test_it_lets_no_site_origin_read_a_staff_surface(
    token_server: LiveServer, admin: StaffMember
) -> None:
    site = _site(token_server)
    for path in ("/admin/queue", "/admin/audit.json", "/admin/account", "/admin/staff",
                 f"/api/moderation/queue?site={site}", f"/api/admin/sites/{site}/webhooks",
                 "/metrics"):
        response = admin.http.get(path, headers={"Origin": ORIGIN})
        assert response.status_code == 200, (path, response.text[:300])
        assert _cors(response) == {}, path
    # The readers' API keeps its credentialed CORS for the widget.
    page = admin.http.get("/api/comments", params={"site": site, "thread": "/story"},
                          headers={"Origin": ORIGIN})
    assert page.headers["access-control-allow-origin"] == ORIGIN
    assert page.headers["access-control-allow-credentials"] == "true"


def test_it_answers_no_preflight_for_a_staff_surface(token_server: LiveServer) -> None:
    _site(token_server)
    with token_server.client() as http:
        for path in ("/api/moderation/comments/1/approve", "/api/admin/sites/x/webhooks",
                     "/admin/staff", "/admin", "/metrics"):
            response = http.options(path, headers={
                "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-csrf-token,content-type"})
            assert response.status_code == 403, path
            assert response.json()["code"] == "origin_not_allowed"
            assert _cors(response) == {}, path
        widget = http.options("/api/comments", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert widget.status_code == 204
        assert widget.headers["access-control-allow-origin"] == ORIGIN


def test_it_refuses_an_admin_form_posted_from_another_origin(
    token_server: LiveServer, admin: StaffMember
) -> None:
    _site(token_server)
    own = token_server.settings.public_url.rstrip("/")
    names = {u.name for u in staff_service(token_server).list_users()}

    def create(name: str, headers: dict[str, str]) -> httpx.Response:
        return admin.post("/admin/staff", {"name": name, "password": "x" * 14, "admin": "1"},
                          headers=headers)

    refused = [
        create("from-site-origin", {"Origin": ORIGIN}),
        create("from-null-origin", {"Origin": "null"}),
        create("from-same-site", {"Sec-Fetch-Site": "same-site"}),
        create("from-cross-site", {"Origin": own, "Sec-Fetch-Site": "cross-site"}),
    ]
    for response in refused:
        assert response.status_code == 403, response.text[:300]
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "origin_not_allowed"
    assert {u.name for u in staff_service(token_server).list_users()} == names
    # The workspace's own pages (their Origin, or a client that sends none) still work.
    assert create("from-own-page", {"Origin": own, "Sec-Fetch-Site": "same-origin"}
                  ).status_code == 303
    assert create("from-a-script", {}).status_code == 303
    # A login form from another origin is refused as well.
    with token_server.client() as http:
        login = http.post("/admin/login", data={"name": admin.name, "password": PASSWORD},
                          headers={"Origin": ORIGIN})
        assert login.status_code == 403


def test_a_staff_script_with_a_bearer_token_still_works(token_server: LiveServer) -> None:
    site = _site(token_server)
    bearer = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with token_server.client() as http:
        added = http.post(f"/api/admin/sites/{site}/webhooks", headers=bearer,
                          json={"url": "https://hooks.example.org/x"})
        assert added.status_code == 201, added.text
        queue = http.get("/api/moderation/queue", params={"site": site}, headers=bearer)
        assert queue.status_code == 200
        act = http.post("/admin/act", data={"action": "approve"}, headers=bearer)
        assert act.status_code != 403, act.text
