"""Workspace fixtures: staff personas signed in through the real login form of a real
server, on SQLite and PostgreSQL, each with sites of their own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from lxml import html as lxml_html

from rostra.services.staff import StaffService
from tests.conftest import ORIGIN, LiveServer, Reader

PASSWORD = "correct horse battery"


def staff_service(server: LiveServer) -> StaffService:
    service: StaffService = server.app.app.state.staff
    return service


def parse(response: httpx.Response) -> Any:
    return lxml_html.fromstring(response.text)


@dataclass
class StaffMember:
    """A persona: one signed-in browser of a staff account."""

    name: str
    http: httpx.Client
    csrf: str = ""
    ip: str = field(default_factory=lambda: f"198.51.100.{secrets.randbelow(250) + 1}")

    def login(self, password: str = PASSWORD, code: str | None = None) -> httpx.Response:
        form = self.http.get("/admin/login")
        token = parse(form).xpath('//input[@name="csrf"]/@value')[0]
        response = self.http.post("/admin/login", data={
            "csrf": token, "name": self.name, "password": password, "code": code or "",
            "next": "/admin/queue"}, headers={"X-Forwarded-For": self.ip})
        if response.status_code == 303:
            page = self.http.get("/admin/queue")
            self.csrf = parse(page).xpath('//main/@data-csrf')[0]
        return response

    def get(self, path: str, **params: Any) -> httpx.Response:
        # An empty params argument would drop a query string already in ``path``.
        return self.http.get(path, params=params) if params else self.http.get(path)

    def page(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text[:500]
        return parse(response)

    def post(self, path: str, data: dict[str, Any] | None = None, *,
             csrf: bool = True, **kwargs: Any) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body.setdefault("csrf", self.csrf)
        return self.http.post(path, data=body, **kwargs)

    def queue_ids(self, **params: Any) -> list[int]:
        doc = self.page("/admin/queue", **params)
        return [int(v) for v in doc.xpath('//article[contains(@class,"item")]/@data-id')]


@dataclass
class Newsroom:
    """Two sites with their staff: an admin, an owner and a moderator of site A, and a
    moderator of site B only."""

    server: LiveServer
    site_a: str
    site_b: str
    admin: StaffMember
    owner: StaffMember
    moderator: StaffMember
    outsider: StaffMember
    readers: dict[str, Reader]

    def reader(self, name: str, site: str | None = None) -> Reader:
        key = f"{name}@{site or self.site_a}"
        if key not in self.readers:
            self.readers[key] = Reader(name, self.server.client(), site or self.site_a)
        return self.readers[key]

    def held(self, text: str, name: str = "Ana", site: str | None = None,
             thread: str = "/story/1", parent_id: int | None = None, **extra: Any) -> int:
        """A comment that the site's hold-everything policy keeps pending."""
        response = self.reader(name, site).post(thread, text, parent_id, **extra)
        assert response.status_code == 201, response.text
        return int(response.json()["comment"]["id"])


def _member(server: LiveServer, name: str, *, admin: bool = False,
            roles: dict[str, str] | None = None) -> StaffMember:
    service = staff_service(server)
    account = service.create_user(name, PASSWORD, is_admin=admin)
    for site, role in (roles or {}).items():
        service.grant(account.id, site, role)
    member = StaffMember(name, server.client())
    assert member.login().status_code == 303
    return member


@pytest.fixture
def newsroom(server: LiveServer) -> Iterator[Newsroom]:
    tag = secrets.token_hex(4)
    hold_all = {"mode": "all", "toxicity": False, "rate_limits": {"post_author": ""}}
    site_a = server.add_site(f"a{tag}", [ORIGIN], moderation=hold_all)
    site_b = server.add_site(f"b{tag}", [ORIGIN], moderation=hold_all)
    room = Newsroom(
        server=server, site_a=site_a, site_b=site_b,
        admin=_member(server, f"admin-{tag}", admin=True),
        owner=_member(server, f"owner-{tag}", roles={site_a: "owner"}),
        moderator=_member(server, f"mod-{tag}", roles={site_a: "moderator"}),
        outsider=_member(server, f"modb-{tag}", roles={site_b: "moderator"}),
        readers={},
    )
    yield room
    for member in (room.admin, room.owner, room.moderator, room.outsider):
        member.http.close()
    for reader in room.readers.values():
        reader.http.close()
