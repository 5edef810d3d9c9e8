"""A TOTP code is taken once: a code that signed one browser in signs no other in, even
when both send it at the same moment, nor turns the second factor off afterwards. One
code seen over a shoulder (or caught with the password) signed in anywhere for as long
as it was valid."""

from __future__ import annotations

import secrets
import threading
import time
from contextlib import closing

import pyotp

from rostra.core.errors import RostraError, Unauthorized
from tests.admin.conftest import PASSWORD, StaffMember, parse, staff_service
from tests.conftest import LiveServer


def _account_with_codes(server: LiveServer) -> tuple[str, pyotp.TOTP]:
    service = staff_service(server)
    account = service.create_user("o" + secrets.token_hex(5), PASSWORD)
    return account.name, pyotp.TOTP(service.enable_totp(account.id))


def test_a_code_that_signed_one_browser_in_signs_no_other_in(server: LiveServer) -> None:
    name, totp = _account_with_codes(server)
    code = totp.now()
    first, second = StaffMember(name, server.client()), StaffMember(name, server.client())
    with closing(first.http), closing(second.http):
        assert second.login("not the password", code=code).status_code == 401  # not taken
        assert first.login(code=code).status_code == 303
        again = second.login(code=code)
        assert again.status_code == 401
        assert parse(again).xpath('string(//p[@role="alert"])') == (
            "Wrong name, password or code.")
        # The next step's code is a new one; and an earlier one than taken is spent too.
        assert second.login(code=totp.at(time.time() + 30)).status_code == 303
        third = StaffMember(name, server.client())
        with closing(third.http):
            assert third.login(code=code).status_code == 401


def test_a_code_that_signed_in_does_not_turn_the_second_factor_off(
        server: LiveServer) -> None:
    name, totp = _account_with_codes(server)
    code = totp.now()
    member = StaffMember(name, server.client())
    with closing(member.http):
        assert member.login(code=code).status_code == 303
        refused = member.post("/admin/account", {"op": "totp_off", "password": PASSWORD,
                                                 "code": code})
        assert refused.status_code == 422
        assert staff_service(server).by_name(name).totp
        assert member.post("/admin/account", {
            "op": "totp_off", "password": PASSWORD,
            "code": totp.at(time.time() + 30)}).status_code == 303
        assert not staff_service(server).by_name(name).totp


def test_two_sign_ins_at_once_with_one_code_open_one_session(server: LiveServer) -> None:
    service = staff_service(server)
    for _ in range(3):
        name, totp = _account_with_codes(server)
        code = totp.now()
        start = threading.Barrier(2)
        outcomes: list[object] = []

        def sign_in(name: str = name, code: str = code,
                    start: threading.Barrier = start, outcomes: list[object] = outcomes
                    ) -> None:
            start.wait()
            try:
                outcomes.append(service.login(name, PASSWORD, ip=None, totp_code=code))
            except RostraError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=sign_in) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        refused = [o for o in outcomes if isinstance(o, RostraError)]
        assert len(refused) == 1, outcomes
        assert isinstance(refused[0], Unauthorized)
        assert len(service.sessions_of(service.by_name(name).id)) == 1
