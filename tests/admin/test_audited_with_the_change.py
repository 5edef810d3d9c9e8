"""An administrator's change and its audit entry commit together. The site's settings,
a new site, a sign-in provider added or removed, a role granted and a new staff account
were each written in one transaction and their audit entry in another: when the second
failed (the database going away between the two), the change stood with no record of
who made it. Now the services write both in one transaction; a failing entry undoes the
change, and the form sent again makes both."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from rostra.store.moderation_tables import audit_log
from rostra.store.site_provider_tables import site_oidc_providers
from tests.admin.conftest import Newsroom, staff_service
from tests.admin.test_sites import _save
from tests.conftest import first_try_fails

pytestmark = pytest.mark.postgres

REFUSED = "RAISE EXCEPTION 'the audit entry is refused'"


def _entries(room: Newsroom, action: str) -> int:
    with room.server.services.db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(audit_log)
                               .where(audit_log.c.action == action)) or 0)


def _audited_or_undone(room: Newsroom, action: str, send: Callable[[], httpx.Response],
                       made: Callable[[], Any]) -> None:
    """``send`` fails when its audit entry does, leaving nothing made; sent again, it
    makes the change and one entry."""
    entries = _entries(room, action)
    with first_try_fails(room.server, "INSERT", f"NEW.action = '{action}'", REFUSED,
                         table="audit_log") as tried:
        failed = send()
        assert tried() == 1
    # An error page (escaping, the error made uvicorn drop the connection after its 500,
    # which the browser could see as a reset before the page).
    assert failed.status_code == 500, failed.text[:300]
    assert "could not do this" in failed.text and "audit entry is refused" not in failed.text
    assert not made(), f"{action}: the change stood without its audit entry"
    assert _entries(room, action) == entries
    again = send()
    assert again.status_code == 303, again.text[:300]
    assert made() and _entries(room, action) == entries + 1


@pytest.mark.parametrize("server", ["postgres"], indirect=True)
def test_a_sites_settings_and_a_new_site(newsroom: Newsroom) -> None:
    room, sites = newsroom, newsroom.server.services.sites
    name = "Renamed " + secrets.token_hex(3)
    _audited_or_undone(room, "site_settings", lambda: _save(room, name=name),
                       lambda: sites.get(room.site_a).name == name)
    new = "n" + secrets.token_hex(5)

    def exists() -> bool:
        return new in {site.id for site in sites.list()}
    _audited_or_undone(room, "site_create", lambda: room.admin.post(
        "/admin/sites/new", {"id": new, "name": "Daily", "origins": ""}), exists)


@pytest.mark.parametrize("server", ["postgres"], indirect=True)
def test_a_sign_in_provider_added_and_removed(newsroom: Newsroom) -> None:
    room = newsroom
    url = f"/admin/sites/{room.site_a}/providers"

    def present() -> bool:
        with room.server.services.db.read() as conn:
            return bool(conn.scalar(select(func.count()).select_from(site_oidc_providers)
                                    .where(site_oidc_providers.c.site_id == room.site_a)))
    _audited_or_undone(room, "site_provider_added", lambda: room.owner.post(url, {
        "op": "add", "name": "kc", "label": "Gazette ID", "issuer": "https://id.example",
        "client_id": "comments", "client_secret": "hush"}), present)
    _audited_or_undone(room, "site_provider_removed", lambda: room.owner.post(url, {
        "op": "remove", "name": "kc"}), lambda: not present())


@pytest.mark.parametrize("server", ["postgres"], indirect=True)
def test_a_role_granted_and_a_staff_account_made(newsroom: Newsroom) -> None:
    room = newsroom
    service = staff_service(room.server)
    _audited_or_undone(
        room, "grant", lambda: room.owner.post(f"/admin/sites/{room.site_a}/staff", {
            "name": room.outsider.name, "role": "moderator"}),
        lambda: service.by_name(room.outsider.name).roles.get(room.site_a) == "moderator")
    name = "desk-" + secrets.token_hex(3)

    def made() -> bool:
        return name in {user.name for user in service.list_users()}
    _audited_or_undone(room, "staff_create", lambda: room.admin.post("/admin/staff", {
        "name": name, "password": "long enough password"}), made)
