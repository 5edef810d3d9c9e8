"""The login limit holds under concurrency: a slot is reserved before a password is
checked, per account name and per address, so simultaneous guesses cannot outrun it."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pyotp
import pytest

from rostra.core.errors import TooManyRequests, Unauthorized
from rostra.services.staff_sign_in import MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_NAME
from tests.admin.conftest import PASSWORD, StaffMember, staff_service
from tests.conftest import LiveServer


def _race(attempts: list[tuple[str, str, str]], server: LiveServer) -> list[str]:
    """Run logins (name, password, ip) all at once; the outcome of each, in order."""
    service = staff_service(server)
    start = threading.Barrier(len(attempts))

    def attempt(item: tuple[str, str, str]) -> str:
        name, password, ip = item
        start.wait()
        try:
            service.login(name, password, ip=ip)
        except Unauthorized:
            return "refused"
        except TooManyRequests:
            return "limited"
        return "signed in"

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(attempt, attempts))


def test_it_checks_no_more_passwords_than_the_limit_under_a_burst(server: LiveServer) -> None:
    name = "u" + secrets.token_hex(5)
    staff_service(server).create_user(name, PASSWORD)
    # 40 guesses at once, from as many addresses: only the limit's worth are checked.
    attempts = [(name, f"guess {n}", f"192.0.2.{n + 1}") for n in range(40)]
    outcomes = _race(attempts, server)
    assert outcomes.count("refused") == MAX_FAILURES_PER_NAME, outcomes
    assert outcomes.count("limited") == len(attempts) - MAX_FAILURES_PER_NAME
    # The right password, sent right after, is not checked either.
    assert _race([(name, PASSWORD, "192.0.2.200")], server) == ["limited"]


def test_it_limits_one_address_across_many_names(server: LiveServer) -> None:
    names = ["u" + secrets.token_hex(5) for _ in range(MAX_FAILURES_PER_ADDRESS + 10)]
    # An address no persona of the other tests uses: it stays locked for the window.
    attempts = [(name, "guess", "2001:db8:dead::1") for name in names]
    outcomes = _race(attempts, server)
    assert outcomes.count("refused") <= MAX_FAILURES_PER_ADDRESS
    assert outcomes.count("limited") >= 10


def test_it_answers_the_login_form_with_429_past_the_limit(server: LiveServer) -> None:
    name = "u" + secrets.token_hex(5)
    staff_service(server).create_user(name, PASSWORD)
    member = StaffMember(name, server.client())
    for _ in range(MAX_FAILURES_PER_NAME):
        assert member.login("wrong password").status_code == 401
    limited = member.login()
    assert limited.status_code == 429
    # The page says how long to wait, and so does the header a script or a proxy reads.
    assert limited.headers["retry-after"] == "900"
    assert "try again in 15 minutes" in limited.text
    member.http.close()


def _guessed_at(server: LiveServer, name: str) -> None:
    """The name's limit of wrong passwords, each from an address of its own."""
    with closing(server.client()) as http:
        guesser = StaffMember(name, http)
        for n in range(MAX_FAILURES_PER_NAME):
            guesser.ip = f"192.0.2.{secrets.randbelow(250) + 1}"
            assert guesser.login(f"guess {n}").status_code == 401


def test_guesses_at_a_name_do_not_lock_out_its_owner_who_has_a_code(
        server: LiveServer) -> None:
    """Anyone could lock any account out: five wrong passwords for its name, from five
    addresses, and its owner with the right password got 429 for 15 minutes, again and
    again. Past the name's limit the right password with a right code still signs in;
    anything less is answered 429 as before, never saying the password was right."""
    service = staff_service(server)
    account = service.create_user("u" + secrets.token_hex(5), PASSWORD, is_admin=True)
    totp = pyotp.TOTP(service.enable_totp(account.id))
    _guessed_at(server, account.name)
    with closing(server.client()) as http:
        owner = StaffMember(account.name, http)
        owner.ip = f"2001:db8:{secrets.randbelow(65536):x}::5"  # an address of its own
        for password, code in [(PASSWORD, None), (PASSWORD, "000000"),
                               ("guess 9", totp.now()), ("", None)]:
            if code == totp.now():
                continue  # (one in a million: the wrong code is the right one)
            limited = owner.login(password, code=code)
            assert (limited.status_code, limited.headers["retry-after"]) == (429, "900")
        assert owner.login(code=totp.now()).status_code == 303
        assert owner.get("/admin/queue").status_code == 200
    # Signing in cleared the name's failures: the next wrong password is a plain 401.
    with closing(server.client()) as http:
        assert StaffMember(account.name, http).login("guess 10").status_code == 401


def test_an_account_without_a_code_stays_locked_for_the_window(server: LiveServer) -> None:
    """The one hard lock left (docs/security.md says to turn codes on): a password alone
    past the name's limit is refused even when right, or guesses would go on unlimited
    from many addresses. Its passkeys still sign in (tests/admin/test_staff_passkeys.py)."""
    name = "u" + secrets.token_hex(5)
    staff_service(server).create_user(name, PASSWORD)
    _guessed_at(server, name)
    with closing(server.client()) as http:
        assert StaffMember(name, http).login().status_code == 429


def test_past_a_names_limit_every_attempt_still_counts_for_its_address(
        server: LiveServer) -> None:
    service = staff_service(server)
    account = service.create_user("u" + secrets.token_hex(5), PASSWORD)
    totp = pyotp.TOTP(service.enable_totp(account.id))
    _guessed_at(server, account.name)
    address = f"2001:db8:{secrets.randbelow(65536):x}::9"
    outcomes = [_race([(account.name, PASSWORD, address)], server)[0]
                for _ in range(MAX_FAILURES_PER_ADDRESS)]
    assert outcomes == ["limited"] * MAX_FAILURES_PER_ADDRESS
    # The address is at its own limit now: not even the code gets its owner through.
    with pytest.raises(TooManyRequests):
        service.login(account.name, PASSWORD, ip=address, totp_code=totp.now())
