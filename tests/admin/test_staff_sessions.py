"""Staff sessions: which sessions a disabled account or a new password ends (its own, no
one else's), sessions opened by another proof (a passkey), TOTP codes typed with a space
(the mutation run of services/staff.py's sign-in and session functions). On SQLite and
PostgreSQL, through the service the login form and the passkey routes call."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, text, update

from rostra.core.errors import Forbidden, NotFound, RostraError, TooManyRequests, Unauthorized
from rostra.core.sealing import Purpose, Sealer, Unsealable
from rostra.services.staff import StaffService
from rostra.services.staff_sign_in import (
    LOGIN_WINDOW,
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_NAME,
    SESSION_TTL,
    SignedIn,
)
from rostra.store.changes import Change, ChangeKind
from rostra.store.staff_tables import staff_login_failures, staff_sessions, staff_users
from tests.admin.conftest import PASSWORD, staff_service
from tests.conftest import LiveServer


def _name() -> str:
    return "s" + secrets.token_hex(5)


def test_disabling_an_account_ends_its_sessions_and_no_one_elses(server: LiveServer) -> None:
    service = staff_service(server)
    one, other = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    mine = service.login(one.name, PASSWORD, ip=None)
    theirs = service.login(other.name, PASSWORD, ip=None)
    service.set_disabled(one.id, True)
    assert service.session(mine.token) is None
    assert service.session(theirs.token) == other
    # Enabled again, the account must sign in anew: the old session stays ended.
    service.set_disabled(one.id, False)
    assert service.session(mine.token) is None
    assert service.session(service.login(one.name, PASSWORD, ip=None).token) is not None


def test_a_new_password_ends_its_sessions_and_no_one_elses(server: LiveServer) -> None:
    service = staff_service(server)
    one, other = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    mine = service.login(one.name, PASSWORD, ip=None)
    theirs = service.login(other.name, PASSWORD, ip=None)
    service.set_password(one.id, "another long password")
    assert service.session(mine.token) is None
    assert service.session(theirs.token) == other
    with pytest.raises(NotFound) as missing:
        service.set_password(999_999_999, "another long password")
    assert missing.value.detail == "no staff account with id 999999999"


def test_a_session_opened_by_a_passkey_is_a_session_like_any_other(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    before = datetime.now(UTC)
    opened = service.open_session(account.id, "passkey", ip="192.0.2.44",
                                  device="Firefox on a tablet")
    assert opened.account == account and len(opened.token) >= 43
    assert before + SESSION_TTL <= opened.expires_at <= datetime.now(UTC) + SESSION_TTL
    assert service.session(opened.token) == account
    [listed] = service.sessions_of(account.id, opened.token)
    assert (listed.method, listed.device, listed.current) == ("passkey", "Firefox on a tablet",
                                                              True)
    assert listed.expires_at == opened.expires_at
    again = service.open_session(account.id, "passkey", ip=None)
    assert again.token != opened.token
    assert len(service.sessions_of(account.id)) == 2


def test_a_totp_code_may_be_typed_with_spaces(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    secret = service.enable_totp(account.id)
    code = pyotp.TOTP(secret).now()
    signed = service.login(account.name, PASSWORD, ip=None, totp_code=f" {code[:3]} {code[3:]} ")
    assert signed.account.totp and service.session(signed.token) == signed.account


# -- the tests below hold each part of sign-in to its one right outcome ----------------

FAILED = (Unauthorized, "wrong name, password or code", {"code": "login_failed"})
LIMITED = (TooManyRequests, "too many failed logins; try again in 15 minutes",
           {"retry_after": 900})


def _address() -> str:
    """An address of this test's own (a /64 of its own: IPv6 is counted per /64)."""
    return f"2001:db8:{secrets.randbelow(65536):x}:{secrets.randbelow(65536):x}::7"


def _refused(service: StaffService, name: str, password: str,
             **kwargs: Any) -> tuple[type[RostraError], str, dict[str, Any]]:
    """How a login is refused: the error's kind, its message and its extra fields."""
    with pytest.raises(RostraError) as refused:
        service.login(name, password, **kwargs)
    return type(refused.value), refused.value.detail, refused.value.extra


def _failures_since(server: LiveServer, first_id: int) -> list[Any]:
    with server.services.db.read() as conn:
        return list(conn.execute(select(staff_login_failures)
                                 .where(staff_login_failures.c.id > first_id)
                                 .order_by(staff_login_failures.c.id)).all())


def _last_failure_id(server: LiveServer) -> int:
    with server.services.db.read() as conn:
        return int(conn.scalar(select(func.max(staff_login_failures.c.id))) or 0)


def _session_row(server: LiveServer, token: str) -> Any:
    with server.services.db.read() as conn:
        return conn.execute(select(staff_sessions).where(
            staff_sessions.c.token_hash == hashlib.sha256(token.encode()).hexdigest())).first()


def _set_session(server: LiveServer, token: str, **values: Any) -> None:
    with server.services.db.write() as conn:
        conn.execute(update(staff_sessions).where(
            staff_sessions.c.token_hash == hashlib.sha256(token.encode()).hexdigest())
            .values(**values))


def test_a_refused_login_never_says_which_part_was_wrong(server: LiveServer) -> None:
    service = staff_service(server)
    plain = service.create_user(_name(), PASSWORD)
    with_code = service.create_user(_name(), PASSWORD)
    secret = service.enable_totp(with_code.id)
    disabled = service.create_user(_name(), PASSWORD)
    service.set_disabled(disabled.id, True)
    code = pyotp.TOTP(secret).now
    assert _refused(service, _name(), PASSWORD, ip=None) == FAILED  # no such account
    assert _refused(service, plain.name, "not the password", ip=None) == FAILED
    assert _refused(service, plain.name, "", ip=None) == FAILED
    # A right code never makes up for a wrong password, nor the password for no code.
    assert _refused(service, with_code.name, "not the password", ip=None,
                    totp_code=code()) == FAILED
    assert _refused(service, with_code.name, PASSWORD, ip=None) == FAILED
    assert _refused(service, with_code.name, PASSWORD, ip=None, totp_code="12345a") == FAILED
    assert _refused(service, disabled.name, PASSWORD, ip=None) == FAILED
    assert service.login(with_code.name, PASSWORD, ip=None, totp_code=code()).account == \
        service.get(with_code.id)


def test_a_name_is_read_to_its_hundredth_character(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user("n" + secrets.token_hex(50)[:99], PASSWORD)
    assert len(account.name) == 100
    # What follows the 100th character is not read: the name the form sent is the
    # account's, and a name of any length is refused as a wrong name is.
    assert service.login(f"  {account.name}tail ", PASSWORD, ip=None).account == account
    assert _refused(service, account.name[:99], PASSWORD, ip=None) == FAILED
    assert _refused(service, "n" * 5000, PASSWORD, ip=None) == FAILED


def test_a_name_is_refused_after_five_failures_until_a_success(server: LiveServer) -> None:
    service = staff_service(server)
    account, other = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    for _ in range(MAX_FAILURES_PER_NAME - 1):
        assert _refused(service, account.name, "guess", ip=None) == FAILED
    assert _refused(service, other.name, "guess", ip=None) == FAILED
    # A success forgets the name's failures: five more guesses are each told they failed.
    service.login(account.name, PASSWORD, ip=None)
    for _ in range(MAX_FAILURES_PER_NAME):
        assert _refused(service, account.name, "guess", ip=None) == FAILED
    before = _last_failure_id(server)
    # The sixth is refused, the right password too (the account has no code), whatever
    # the case of the name; the refusals are not counted for the name (its window ends
    # as it would have), only for their addresses.
    for name, password in ((account.name, PASSWORD), (account.name.upper(), "guess")):
        assert _refused(service, name, password, ip=_address()) == LIMITED
    assert [row.key[:2] for row in _failures_since(server, before)] == ["i:", "i:"]
    # Another name's failures are its own, and were not forgotten by the success.
    for _ in range(MAX_FAILURES_PER_NAME - 1):
        assert _refused(service, other.name, "guess", ip=None) == FAILED
    assert _refused(service, other.name, PASSWORD, ip=None) == LIMITED


def test_failures_older_than_the_window_no_longer_count(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    before = _last_failure_id(server)
    for _ in range(MAX_FAILURES_PER_NAME):
        assert _refused(service, account.name, "guess", ip=None) == FAILED
    made = [row.id for row in _failures_since(server, before)]
    assert len(made) == MAX_FAILURES_PER_NAME
    assert _refused(service, account.name, PASSWORD, ip=None) == LIMITED

    def age(ids: list[int], by: timedelta) -> None:
        with server.services.db.write() as conn:
            conn.execute(update(staff_login_failures)
                         .where(staff_login_failures.c.id.in_(ids))
                         .values(created_at=datetime.now(UTC) - by))

    # A minute before the window ends they still count; a minute after, not.
    age(made, LOGIN_WINDOW - timedelta(minutes=1))
    assert _refused(service, account.name, PASSWORD, ip=None) == LIMITED
    age(made, LOGIN_WINDOW + timedelta(minutes=1))
    assert _refused(service, account.name, "guess", ip=None) == FAILED
    assert service.login(account.name, PASSWORD, ip=None).account == account


def test_an_address_is_refused_after_twenty_failures_with_any_names(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    here, there = _address(), _address()
    for _ in range(MAX_FAILURES_PER_ADDRESS - 1):
        assert _refused(service, _name(), "guess", ip=here) == FAILED
    # A success from the address gives its own attempt back: one more guess is heard.
    assert service.login(account.name, PASSWORD, ip=here).account == account
    assert _refused(service, _name(), "guess", ip=here) == FAILED
    assert _refused(service, _name(), "guess", ip=here) == LIMITED
    assert _refused(service, account.name, PASSWORD, ip=here) == LIMITED
    # Another address is counted apart.
    assert _refused(service, _name(), "guess", ip=there) == FAILED
    assert service.login(account.name, PASSWORD, ip=there).account == account


def test_a_session_is_stored_as_a_hash_with_how_where_and_when_it_began(
        server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    address = _address()
    browser = "Mozilla/5.0 (X11; Linux x86_64)\n\tFirefox/140.0"
    signed = service.login(account.name, PASSWORD, ip=address, device=browser)
    by_key = service.open_session(account.id, "passkey", ip=address, device=browser)
    bare = service.open_session(account.id, "passkey", ip=None)
    for opened, method in ((signed, "password"), (by_key, "passkey"), (bare, "passkey")):
        assert len(opened.token) == 43  # 32 random bytes
        assert opened.account == account
        row = _session_row(server, opened.token)
        assert (row.user_id, row.method, row.last_action) == (account.id, method, None)
        assert row.device == (None if opened is bare else "Mozilla/5.0 (X11; Linux x86_64)Firefox/140.0")
        assert row.ip_hash == (None if opened is bare else service.ips.hash(address))
        assert row.seen_at == row.created_at
        assert row.expires_at == row.created_at + SESSION_TTL == opened.expires_at


def test_an_old_password_hash_is_upgraded_at_the_next_login(server: LiveServer) -> None:
    service = staff_service(server)
    account, other = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with server.services.db.write() as conn:
        conn.execute(update(staff_users).where(staff_users.c.id == account.id)
                     .values(password_hash=weak))
        others = conn.scalar(select(staff_users.c.password_hash)
                             .where(staff_users.c.id == other.id))
    service.login(account.name, PASSWORD, ip=None)
    with server.services.db.read() as conn:
        hashes = dict(conn.execute(select(staff_users.c.id, staff_users.c.password_hash)
                                   .where(staff_users.c.id.in_([account.id, other.id]))).all())
    assert hashes[account.id].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHasher().verify(hashes[account.id], PASSWORD)
    assert hashes[other.id] == others
    assert service.login(other.name, PASSWORD, ip=None).account == other


def test_a_session_ends_when_it_expires(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    ending, lasting = (service.login(account.name, PASSWORD, ip=None) for _ in range(2))
    _set_session(server, ending.token, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    _set_session(server, lasting.token, expires_at=datetime.now(UTC) + timedelta(minutes=1))
    assert service.session(ending.token) is None
    assert service.session(lasting.token) == account
    assert [s.current for s in service.sessions_of(account.id, lasting.token)] == [True]


def test_a_disabled_account_has_no_session_even_when_one_was_opened(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    opened = service.open_session(account.id, "passkey", ip=None)
    assert service.session(opened.token) == account
    # Disabled after its session was opened: the session answers no from then on.
    service.set_disabled(account.id, True)
    assert service.session(opened.token) is None
    assert service.session("no such token") is None


def test_a_session_notes_its_last_use_at_most_every_five_minutes(server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    recent, stale, unknown, other = (service.login(account.name, PASSWORD, ip=None)
                                     for _ in range(4))
    now = datetime.now(UTC)
    _set_session(server, recent.token, seen_at=now - timedelta(minutes=1))
    _set_session(server, stale.token, seen_at=now - timedelta(minutes=10))
    _set_session(server, unknown.token, seen_at=None)  # a session from before version 0009
    _set_session(server, other.token, seen_at=now - timedelta(minutes=20))
    for signed in (recent, stale, unknown):
        assert service.session(signed.token) == account
    assert _session_row(server, recent.token).seen_at == now - timedelta(minutes=1)
    assert _session_row(server, stale.token).seen_at > now - timedelta(minutes=1)
    assert _session_row(server, unknown.token).seen_at > now - timedelta(minutes=1)
    assert _session_row(server, other.token).seen_at == now - timedelta(minutes=20)


def test_the_account_page_lists_open_sessions_most_recently_used_first(
        server: LiveServer) -> None:
    service = staff_service(server)
    account, other = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    tokens = [service.login(account.name, PASSWORD, ip=None, device=f"Browser {n}").token
              for n in range(3)]
    service.login(other.name, PASSWORD, ip=None)
    ended = service.login(account.name, PASSWORD, ip=None).token
    _set_session(server, ended, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    # The order the database returns them in, each then seen later than the one before:
    # the list must come out the other way round.
    hashes = {hashlib.sha256(t.encode()).hexdigest(): t for t in tokens}
    now = datetime.now(UTC)
    with server.services.db.read() as conn:
        stored = [hashes[r.token_hash] for r in conn.execute(select(staff_sessions).where(
            staff_sessions.c.user_id == account.id, staff_sessions.c.expires_at > now))]
    for minutes, token in zip((30, 20, 10), stored, strict=True):
        _set_session(server, token, seen_at=now - timedelta(minutes=minutes))
    # A session from before methods and last use were recorded: listed by when it began.
    _set_session(server, stored[0], method=None, seen_at=None,
                 created_at=now - timedelta(minutes=30))
    listed = service.sessions_of(account.id, stored[1])
    rows = {t: _session_row(server, t) for t in stored}
    expected = [stored[2], stored[1], stored[0]]
    assert [(s.handle, s.method, s.device, s.created_at, s.seen_at, s.expires_at, s.current)
            for s in listed] == [
        (hashlib.sha256(t.encode()).hexdigest()[:16], "password",
         f"Browser {tokens.index(t)}", rows[t].created_at, rows[t].seen_at or rows[t].created_at,
         rows[t].expires_at, t == stored[1]) for t in expected]


def test_ending_a_session_takes_its_exact_handle_and_only_the_accounts_own(
        server: LiveServer) -> None:
    service = staff_service(server)
    account, other = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    one, two = (service.login(account.name, PASSWORD, ip=None) for _ in range(2))
    theirs = service.login(other.name, PASSWORD, ip=None)

    def handle(signed: SignedIn) -> str:
        return hashlib.sha256(signed.token.encode()).hexdigest()[:16]

    for wrong in (handle(one)[:15], handle(one) + "0", handle(one).upper(), "%" * 16, "_" * 16,
                  "g" * 16, ""):
        assert service.end_session(account.id, wrong) is False
    assert service.end_session(account.id, handle(theirs)) is False
    assert service.session(one.token) == account and service.session(theirs.token) == other
    assert service.end_session(account.id, handle(one)) is True
    assert service.session(one.token) is None
    assert service.session(two.token) == account
    assert service.end_session(account.id, handle(one)) is False


def test_ending_the_other_sessions_keeps_this_one_and_other_accounts(server: LiveServer) -> None:
    service = staff_service(server)
    account, other = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    here, *elsewhere = (service.login(account.name, PASSWORD, ip=None) for _ in range(3))
    theirs = service.login(other.name, PASSWORD, ip=None)
    assert service.end_sessions(account.id, keep_token=here.token) == 2
    assert [service.session(s.token) for s in (here, *elsewhere, theirs)] == [
        account, None, None, other]
    assert service.end_sessions(account.id) == 1
    assert service.session(here.token) is None and service.session(theirs.token) == other


def test_signing_out_ends_this_session_only(server: LiveServer) -> None:
    service = staff_service(server)
    account, other = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    here, elsewhere = (service.login(account.name, PASSWORD, ip=None) for _ in range(2))
    theirs = service.login(other.name, PASSWORD, ip=None)
    service.logout(here.token)
    service.logout("no such token")
    assert [service.session(s.token) for s in (here, elsewhere, theirs)] == [None, account, other]


def test_a_totp_code_of_the_step_before_or_after_is_taken_and_no_further(
        server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    totp = pyotp.TOTP(service.enable_totp(account.id))

    def attempt(steps: int) -> bool:
        """Sign in with the code ``steps`` away from now; True when it is taken. Tried
        again when the 30-second step turned during the attempt."""
        while True:
            step = totp.timecode(datetime.now(UTC))
            code = totp.generate_otp(step + steps)
            try:
                service.login(account.name, PASSWORD, ip=None, totp_code=code)
                taken = True
            except Unauthorized:
                taken = False
            if totp.timecode(datetime.now(UTC)) == step:
                return taken

    assert attempt(-2) is False
    assert attempt(2) is False
    # Each code is taken once, and none older than one taken: these go forward.
    assert attempt(-1) is True
    assert attempt(0) is True
    assert attempt(1) is True
    assert attempt(0) is False  # the step after it was taken


def test_on_postgres_simultaneous_attempts_on_one_name_are_counted_one_after_another(
        pg_live_server: LiveServer) -> None:
    """PostgreSQL transactions would each count the failures of the others as not there
    yet: an attempt waits for the name's lock (shared by every server of the database)
    before it counts, so that the guesses made at once are held to the limit too."""
    server = pg_live_server
    service = staff_service(server)
    account = service.create_user(_name(), PASSWORD)
    before = _last_failure_id(server)
    lock = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))")
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                   " AND wait_event_type = 'Lock' AND wait_event = 'advisory'")
    outcome: list[Any] = []

    def guess() -> None:
        outcome.append(_refused(service, account.name.upper(), "guess", ip=None))

    with server.services.db.engine.connect() as holder, holder.begin():
        holder.execute(lock, {"k": "rostra-login:n:" + account.name.casefold()})
        attempt = threading.Thread(target=guess)
        attempt.start()
        with server.services.db.engine.connect() as watcher:
            deadline = time.monotonic() + 30

            def nobody_waits() -> bool:
                # Each look in a transaction of its own: PostgreSQL keeps the view of
                # pg_stat_activity a transaction first took (a first look before the
                # attempt waited would otherwise be all it ever saw).
                with watcher.begin():
                    return watcher.scalar(waiting) == 0
            while nobody_waits():
                assert attempt.is_alive() and time.monotonic() < deadline, \
                    "the attempt did not wait for the name's lock"
                time.sleep(0.02)
        assert _failures_since(server, before) == []  # nothing counted while it waits
    attempt.join(30)
    assert outcome == [FAILED]
    assert len(_failures_since(server, before)) == 1


def test_disabling_staff_tells_exactly_the_sites_where_their_reader_accounts_are(
        server: LiveServer) -> None:
    """Their "Staff" badges come or go on those sites: each process hears which sites'
    cached pages to drop from the change the transaction records."""
    service = staff_service(server)
    account, other = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    mine = [server.add_site("d" + secrets.token_hex(5)) for _ in range(2)]
    theirs = server.add_site("d" + secrets.token_hex(5))
    for site, person in ((mine[0], account), (mine[1], account), (theirs, other)):
        subject = "email:" + secrets.token_hex(4) + "@staff.example"
        server.services.accounts.sign_in(site, subject, "Ed", subject[6:])
        service.link_reader(person.id, site, subject)
    heard: list[Change] = []
    server.services.db.after_commit.append(heard.extend)
    try:
        service.set_disabled(account.id, True)
        told = sorted(c.site_id for c in heard if c.kind is ChangeKind.STAFF)
        heard.clear()
        service.set_disabled(service.create_user(_name(), PASSWORD).id, True)  # no ties
        untold = [c for c in heard if c.kind is ChangeKind.STAFF]
    finally:
        server.services.db.after_commit.remove(heard.extend)
    assert told == sorted(mine)
    assert untold == []


def test_a_totp_secret_this_server_cannot_open_refuses_the_right_password_with_a_reason(
        server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    service = staff_service(server)
    account, disabled = service.create_user(_name(), PASSWORD), service.create_user(_name(), PASSWORD)
    secret = pyotp.random_base32()
    sealed = Sealer("a secret_key this server does not have").seal(secret, Purpose.TOTP)
    with server.services.db.write() as conn:
        conn.execute(update(staff_users).where(staff_users.c.id.in_([account.id, disabled.id]))
                     .values(totp_secret=sealed))
    service.set_disabled(disabled.id, True)
    with pytest.raises(Unsealable) as unsealable:
        service.sealer.open(sealed, Purpose.TOTP)
    code = pyotp.TOTP(secret).now
    with caplog.at_level(logging.ERROR, logger="rostra.staff"):
        # A wrong password, or a disabled account, learns nothing more than before.
        assert _refused(service, account.name, "not the password", ip=None,
                        totp_code=code()) == FAILED
        assert _refused(service, disabled.name, PASSWORD, ip=None, totp_code=code()) == FAILED
        assert caplog.records == []
        assert _refused(service, account.name, PASSWORD, ip=None, totp_code=code()) == (
            Forbidden,
            "Your password is right, but this server cannot read your account's second "
            "factor (its secret_key has changed). Sign in with a passkey, or ask an "
            f"administrator to turn the second factor off (`rostra user totp-off "
            f"{account.name}`) and set it up again.", {"code": "totp_unavailable"})
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [(
        "rostra.staff", "ERROR",
        f"staff account {account.name!r} cannot sign in with a password: its TOTP secret is "
        f"{unsealable.value.reason}. Set secret_key back to the key it was sealed with, or "
        "re-seal it with `rostra secrets seal --previous-key-file OLD_KEY_FILE`, or turn its "
        f"second factor off with `rostra user totp-off {account.name}` (its owner then sets "
        "up a new one)")]
