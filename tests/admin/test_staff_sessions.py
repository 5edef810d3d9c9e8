"""Staff sessions: which sessions a disabled account or a new password ends (its own, no
one else's), sessions opened by another proof (a passkey), TOTP codes typed with a space
(the mutation run of services/staff.py's sign-in and session functions). On SQLite and
PostgreSQL, through the service the login form and the passkey routes call."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pyotp
import pytest

from rostra.core.errors import NotFound
from rostra.services.staff import SESSION_TTL
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
