"""Staff TOTP secrets sealed at rest, through the workspace's real login form, on SQLite
and PostgreSQL: set up on the account page, stored sealed, asked at login; a secret
stored plain by an earlier version still works; one sealed under another secret_key
refuses that account's password login with a clear message (and tells the operator
what to do), never a 5xx, and `rostra user totp-off` lets the account in again."""

from __future__ import annotations

import logging
import secrets
import time

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from rostra.cli import main
from rostra.core.sealing import Purpose, Sealer
from rostra.services.staff_sign_in import MAX_FAILURES_PER_NAME
from rostra.store.staff_tables import staff_login_failures, staff_users
from tests.admin.conftest import PASSWORD, StaffMember, parse, staff_service
from tests.conftest import LiveServer

BEFORE = Sealer("the-secret-key-before-the-operator-changed-it")


def _stored(server: LiveServer, name: str) -> str:
    with server.services.db.read() as conn:
        value: str = conn.scalar(select(staff_users.c.totp_secret)
                                 .where(staff_users.c.name == name))
    return value


def _store(server: LiveServer, name: str, value: str) -> None:
    """A value as an earlier version, or a server with another secret_key, wrote it."""
    with server.services.db.write() as conn:
        conn.execute(update(staff_users).where(staff_users.c.name == name)
                     .values(totp_secret=value))


def _new_member(server: LiveServer) -> StaffMember:
    name = "t" + secrets.token_hex(5)
    staff_service(server).create_user(name, PASSWORD)
    return StaffMember(name, server.client())


def test_a_totp_secret_set_up_on_the_account_page_is_stored_sealed(server: LiveServer) -> None:
    member = _new_member(server)
    with member.http:
        assert member.login().status_code == 303
        page = parse(member.post("/admin/account", {"op": "totp_on", "password": PASSWORD}))
        secret = page.xpath('//code[@class="secret"]/text()')[0].strip()
        assert member.post("/admin/account", {
            "op": "totp_confirm", "code": pyotp.TOTP(secret).now()}).status_code == 303
    stored = _stored(server, member.name)
    assert stored.startswith("sealed:v1:") and secret not in stored
    with server.client() as http:
        again = StaffMember(member.name, http)
        assert again.login().status_code == 401  # the code is asked
        assert again.login(code=pyotp.TOTP(secret).at(time.time() + 30)).status_code == 303


def test_a_plain_totp_secret_from_before_still_signs_in(server: LiveServer) -> None:
    member = _new_member(server)
    secret = pyotp.random_base32()
    _store(server, member.name, secret)
    with member.http:
        assert member.login(code="000000").status_code == 401
        assert member.login(code=pyotp.TOTP(secret).now()).status_code == 303


def test_a_totp_secret_sealed_with_another_key_refuses_with_a_clear_message(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    member, other = _new_member(server), _new_member(server)
    secret = pyotp.random_base32()
    _store(server, member.name, BEFORE.seal(secret, Purpose.TOTP))
    with caplog.at_level(logging.ERROR, logger="rostra.staff"), member.http:
        # A wrong password says nothing more than before.
        wrong = member.login(password="not the password at all", code=pyotp.TOTP(secret).now())
        assert wrong.status_code == 401
        assert "second factor" not in wrong.text
        refused = member.login(code=pyotp.TOTP(secret).now())
        assert refused.status_code == 403, refused.text
        said = parse(refused).xpath('//p[@class="error"]/text()')[0]
        assert "cannot read your account's second factor" in said
        assert f"rostra user totp-off {member.name}" in said
    told = [r.getMessage() for r in caplog.records if r.name == "rostra.staff"]
    assert any(repr(member.name) in m and "another secret_key" in m
               and f"rostra user totp-off {member.name}" in m for m in told), told
    assert not any(secret in m for m in told)
    with other.http:  # everyone else signs in as ever
        assert other.login().status_code == 303

    done = CliRunner().invoke(main, ["--database-url", server.settings.database_url, "user",
                                     "totp-off", member.name],
                              env={"ROSTRA_SECRET_KEY": server.settings.secret_key})
    assert done.exit_code == 0, done.output
    assert f"second factor of {member.name} is off" in done.output
    with server.client() as http:
        assert StaffMember(member.name, http).login().status_code == 303


def test_a_right_password_whose_totp_cannot_be_opened_uses_up_no_login_attempt(
        server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    member = _new_member(server)
    secret = pyotp.random_base32()
    _store(server, member.name, BEFORE.seal(secret, Purpose.TOTP))
    caplog.set_level(logging.ERROR, logger="rostra.staff")
    with member.http:
        # The password was right and the fault is the server's: no attempt is counted,
        # however often it is tried, and each answer says why.
        for _ in range(MAX_FAILURES_PER_NAME + 1):
            refused = member.login(code=pyotp.TOTP(secret).now())
            assert refused.status_code == 403, refused.text
            said = parse(refused).xpath('//p[@class="error"]/text()')[0]
            assert "cannot read your account's second factor" in said
        with server.services.db.read() as conn:
            counted = conn.scalar(select(func.count()).select_from(staff_login_failures)
                                  .where(staff_login_failures.c.key == f"n:{member.name}"))
        assert counted == 0
        # The operator is told once, not once a try (whoever holds the password could
        # otherwise fill the log).
        told = [r for r in caplog.records if member.name in r.getMessage()
                and "cannot sign in with a password" in r.getMessage()]
        assert len(told) == 1
        # Wrong passwords still count as ever.
        for _ in range(MAX_FAILURES_PER_NAME):
            assert member.login(password="not the password at all").status_code == 401
        assert member.login(code=pyotp.TOTP(secret).now()).status_code == 429
