"""A staff account's own changes are in the audit log: a new password, a second factor
turned on and off, a passkey added or removed (from the account page, by the person),
and from the command line a site, its origins, a new account, a role, a tied reader
account, a password and a second factor turned off (by "command line (<system user>)").
None was recorded: an administrator could not tell who turned a second factor off.
Entries name the account, never a secret."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import select

from rostra.store.db import Database
from rostra.store.moderation_tables import audit_log
from tests.admin.conftest import PASSWORD, parse
from tests.admin.test_account_forms import _signed_in
from tests.admin.test_staff_passkeys import _add
from tests.cli.test_user_command import Cli
from tests.conftest import LiveServer
from tests.webauthn_soft import SoftAuthenticator


def _entries(db: Database, target: str) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(audit_log).where(audit_log.c.target == target)
                                 .order_by(audit_log.c.id)).all())


def test_the_account_pages_changes_are_audited(server: LiveServer) -> None:
    with server.client() as http:
        member = _signed_in(server, http)
        account = server.app.app.state.staff.by_name(member.name)
        page = member.post("/admin/account", {"op": "totp_on", "password": PASSWORD})
        totp = pyotp.TOTP(parse(page).xpath('string(//code[@class="secret"])'))
        assert member.post("/admin/account", {"op": "totp_confirm",
                                              "code": totp.now()}).status_code == 303
        assert member.post("/admin/account", {
            "op": "totp_off", "password": PASSWORD,
            "code": totp.at(time.time() + 30)}).status_code == 303
        changed = member.post("/admin/account", {
            "op": "password", "password": PASSWORD, "new_password": "another long password",
            "repeat": "another long password"})
        assert changed.status_code == 303, changed.text[:300]
    entries = _entries(server.services.db, f"staff:{account.id}")
    assert [(e.action, e.actor, e.after) for e in entries] == [
        (action, f"{member.name} (#{account.id})", {"name": member.name})
        for action in ("totp_on", "totp_off", "staff_password")]
    assert all(e.site_id is None for e in entries)  # about no site: administrators see it
    assert "another long password" not in json.dumps([e.after for e in entries])


def test_the_command_lines_changes_are_audited(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    steps = [
        ("site", "add", "news", "--name", "News", "--origin", "https://news.example"),
        ("site", "origin", "add", "news", "https://www.news.example"),
        ("site", "origin", "remove", "news", "https://news.example"),
        ("user", "add", "desk", "--site", "news", "--role", "moderator",
         "--password-file", cli.password_file(PASSWORD)),
        ("user", "grant", "desk", "--site", "news", "--role", "owner"),
        ("user", "password", "desk", "--password-file", cli.password_file("a new password!")),
        ("user", "totp-off", "desk"),
    ]
    for step in steps:
        done = cli.run(*step)
        assert done.exit_code == 0, done.output
    db = Database(cli.url)
    try:
        with db.read() as conn:
            rows = conn.execute(select(audit_log.c.action, audit_log.c.actor,
                                       audit_log.c.target).order_by(audit_log.c.id)).all()
    finally:
        db.dispose()
    assert [r.action for r in rows] == [
        "site_create", "site_settings", "site_settings", "staff_create", "grant", "grant",
        "staff_password", "totp_off"], rows
    assert all(r.actor.startswith("command line (") for r in rows), rows


def test_a_staff_members_passkeys_added_and_removed_are_audited(server: LiveServer) -> None:
    with server.client() as http:
        member = _signed_in(server, http)
        member.csrf = member.page("/admin/queue").xpath("//main/@data-csrf")[0]
        account = server.app.app.state.staff.by_name(member.name)
        added = _add(member, server, SoftAuthenticator())
        assert added.status_code == 201, added.text
        removed = member.post("/admin/account", {"op": "remove_passkey",
                                                 "passkey": added.json()["id"]})
        assert removed.status_code == 303, removed.text[:300]
    entries = _entries(server.services.db, f"staff:{account.id}")
    assert [(e.action, e.actor) for e in entries] == [
        ("passkey_added", f"{member.name} (#{account.id})"),
        ("passkey_removed", f"{member.name} (#{account.id})")]
    assert entries[0].after == {"passkey": added.json()["id"], "name": "Desk key"}
