"""Staff accounts: hashed passwords, roles, sessions, login rate limiting, TOTP, and the
`rostra user` command."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from rostra.cli import main
from rostra.core.errors import Conflict, InvalidInput, TooManyRequests, Unauthorized
from rostra.core.sealing import Sealer
from rostra.moderation.ip_hashing import IpHasher
from rostra.services.staff import StaffService
from rostra.services.staff_sign_in import MAX_FAILURES_PER_NAME
from rostra.store.db import Database
from rostra.store.staff_tables import staff_sessions, staff_users
from tests.admin.conftest import PASSWORD, StaffMember, parse, staff_service
from tests.conftest import LiveServer


def _name() -> str:
    return "u" + secrets.token_hex(5)


def test_it_stores_only_an_argon2_hash_of_the_password(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    with server.services.db.read() as conn:
        digest = conn.scalar(select(staff_users.c.password_hash)
                             .where(staff_users.c.id == account.id))
    assert digest.startswith("$argon2id$") and PASSWORD not in digest
    with pytest.raises(Conflict):
        service.create_user(account.name, PASSWORD)
    with pytest.raises(InvalidInput, match="at least 10"):
        service.create_user(_name(), "short")
    with pytest.raises(InvalidInput, match="name"):
        service.create_user("<script>", PASSWORD)


def test_it_opens_a_session_only_for_the_right_password(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    with pytest.raises(Unauthorized):
        service.login(account.name, "wrong password", ip="192.0.2.10")
    signed = service.login(account.name, PASSWORD, ip="192.0.2.10")
    assert service.session(signed.token) == account
    with server.services.db.read() as conn:
        kept = conn.scalars(select(staff_sessions.c.token_hash)).all()
    assert signed.token not in kept  # only a hash of the token is stored
    service.logout(signed.token)
    assert service.session(signed.token) is None


def test_it_ends_sessions_when_the_password_changes_or_the_account_is_disabled(
        server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    first = service.login(account.name, PASSWORD, ip=None)
    service.set_password(account.id, "another long password")
    assert service.session(first.token) is None
    second = service.login(account.name, "another long password", ip=None)
    service.set_disabled(account.id, True)
    assert service.session(second.token) is None
    with pytest.raises(Unauthorized):
        service.login(account.name, "another long password", ip=None)


def test_it_opens_no_session_for_a_disabled_account_whatever_proved_who_it_is(
        server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    service.set_disabled(account.id, True)
    # A passkey (or any other proof) opens sessions through open_session: it refuses a
    # disabled account itself, as login does, whatever its callers checked before.
    with pytest.raises(Unauthorized, match="this account is disabled") as refused:
        service.open_session(account.id, "passkey", ip="192.0.2.30")
    assert refused.value.extra["code"] == "login_failed"
    with server.services.db.read() as conn:
        opened = conn.scalars(select(staff_sessions.c.token_hash)
                              .where(staff_sessions.c.user_id == account.id)).all()
    assert opened == []
    # The password says nothing about itself: right or wrong, the same refusal, and
    # each counts as a failed attempt.
    for password in ([PASSWORD, "wrong password"] * MAX_FAILURES_PER_NAME)[
            :MAX_FAILURES_PER_NAME]:
        with pytest.raises(Unauthorized, match="wrong name, password or code"):
            service.login(account.name, password, ip="192.0.2.31")
    with pytest.raises(TooManyRequests):
        service.login(account.name, PASSWORD, ip="192.0.2.32")


def test_it_stops_guessing_after_a_few_failures(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    for _ in range(MAX_FAILURES_PER_NAME):
        with pytest.raises(Unauthorized):
            service.login(account.name, "guess", ip="192.0.2.77")
    # Even the right password is refused now, from any address.
    with pytest.raises(TooManyRequests):
        service.login(account.name, PASSWORD, ip="192.0.2.78")


def test_it_rate_limits_the_login_form(server: LiveServer) -> None:
    service = staff_service(server)
    name = _name()
    service.create_user(name, PASSWORD)
    with server.client() as http:
        member = StaffMember(name, http)
        statuses = [member.login("not it").status_code
                    for _ in range(MAX_FAILURES_PER_NAME + 1)]
        page = parse(member.login())
    assert statuses[:MAX_FAILURES_PER_NAME] == [401] * MAX_FAILURES_PER_NAME
    assert statuses[-1] == 429
    assert "too many failed logins" in page.xpath('string(//p[@role="alert"])')


def test_it_asks_for_a_totp_code_once_one_is_set_up(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    secret = service.enable_totp(account.id)
    with pytest.raises(Unauthorized):
        service.login(account.name, PASSWORD, ip=None)
    with pytest.raises(Unauthorized):
        service.login(account.name, PASSWORD, ip=None, totp_code="000000")
    signed = service.login(account.name, PASSWORD, ip=None, totp_code=pyotp.TOTP(secret).now())
    assert signed.account.totp
    with server.client() as http:
        member = StaffMember(account.name, http)
        assert member.login().status_code == 401
        # Each code is taken once: the next step's, as the one now signed in above.
        next_code = pyotp.TOTP(secret).at(time.time() + 30)
        assert member.login(code=next_code).status_code == 303


def test_it_manages_staff_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()
    secret_file = tmp_path / "password"
    secret_file.write_text(PASSWORD + "\n")
    site = runner.invoke(main, ["--database-url", url, "site", "add", "news", "--name", "News"])
    assert site.exit_code == 0, site.output
    added = runner.invoke(main, ["--database-url", url, "user", "add", "editor", "--site",
                                 "news", "--role", "owner", "--password-file", str(secret_file)])
    assert added.exit_code == 0, added.output
    assert "owner of news" in added.output
    prompted = runner.invoke(main, ["--database-url", url, "user", "add", "boss", "--admin"],
                             input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    granted = runner.invoke(main, ["--database-url", url, "user", "grant", "boss", "--site",
                                   "news", "--role", "moderator"])
    assert granted.exit_code == 0 and "moderator of news" in granted.output
    listed = runner.invoke(main, ["--database-url", url, "user", "list"])
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in listed.output.splitlines()}
    assert rows["editor"] == ["-", "news:owner"]
    assert rows["boss"] == ["admin", "news:moderator"]
    missing = runner.invoke(main, ["--database-url", url, "user", "grant", "nobody", "--site",
                                   "news", "--role", "owner"])
    assert missing.exit_code != 0 and "no staff account" in missing.output
    db = Database(url)
    try:
        service = StaffService(db, IpHasher(db, "secret"), Sealer(""))
        assert service.login("editor", PASSWORD, ip=None).account.roles == {"news": "owner"}
    finally:
        db.dispose()


def test_it_lets_staff_change_their_password_and_set_up_a_second_factor(
        server: LiveServer) -> None:
    service = staff_service(server)
    name = _name()
    service.create_user(name, PASSWORD)
    with server.client() as http:
        member = StaffMember(name, http)
        assert member.login().status_code == 303
        wrong = member.post("/admin/account", {"op": "password", "password": "not mine",
                                               "new_password": "a brand new password",
                                               "repeat": "a brand new password"})
        assert wrong.status_code == 422
        assert parse(wrong).xpath('string(//p[@role="alert"])') == "Wrong current password."
        changed = member.post("/admin/account", {"op": "password", "password": PASSWORD,
                                                 "new_password": "a brand new password",
                                                 "repeat": "a brand new password"})
        assert changed.status_code == 303
        assert member.get("/admin/queue").status_code == 303  # signed out everywhere
        assert member.login("a brand new password").status_code == 303
        page = parse(member.post("/admin/account", {"op": "totp_on",
                                                    "password": "a brand new password"}))
        secret = page.xpath('string(//code[@class="secret"])')
        assert len(secret) >= 16
        assert member.post("/admin/account", {
            "op": "totp_confirm", "code": pyotp.TOTP(secret).now()}).status_code == 303
        assert member.post("/admin/logout").status_code == 303
        assert member.login("a brand new password").status_code == 401
        code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step's: each is taken once
        assert member.login("a brand new password", code=code).status_code == 303


def test_it_lists_staff_sessions_with_their_browsers_and_ends_each(server: LiveServer) -> None:
    service = staff_service(server)
    name = _name()
    service.create_user(name, PASSWORD)
    with server.client() as one, server.client() as two:
        _staff_sessions(server, StaffMember(name, one), StaffMember(name, two))


def _staff_sessions(server: LiveServer, here: StaffMember, there: StaffMember) -> None:
    for member in (here, there):
        assert member.login().status_code == 303
    page = here.page("/admin/account")
    rows = page.xpath('//table[@class="sessions"]/tbody/tr')
    assert len(rows) == 2
    assert [r.xpath("string(td[1])").count("(this browser)") for r in rows].count(1) == 1
    assert all("python-httpx" in r.xpath("string(td[1])") for r in rows)
    other = next(r for r in rows if "(this browser)" not in r.xpath("string(td[1])"))
    handle = other.get("data-session")
    with server.services.db.read() as conn:
        hashes = list(conn.execute(select(staff_sessions.c.token_hash)).scalars())
    assert any(h.startswith(handle) for h in hashes)
    # Without the form's token the session stays.
    refused = here.post("/admin/account", {"op": "end_session", "session": handle}, csrf=False)
    assert refused.status_code == 403
    assert there.get("/admin/queue").status_code == 200
    ended = here.post("/admin/account", {"op": "end_session", "session": handle})
    assert ended.status_code == 303
    assert there.get("/admin/queue").status_code in (303, 401)
    assert here.get("/admin/queue").status_code == 200
    assert there.login().status_code == 303
    assert here.post("/admin/account", {"op": "end_others"}).status_code == 303
    assert there.get("/admin/queue").status_code in (303, 401)
    assert len(here.page("/admin/account").xpath('//table[@class="sessions"]/tbody/tr')) == 1
