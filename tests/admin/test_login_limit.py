"""The login limit holds under concurrency: a slot is reserved before a password is
checked, per account name and per address, so simultaneous guesses cannot outrun it."""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

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
