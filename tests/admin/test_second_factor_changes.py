"""Turning the second factor on, replacing it or turning it off takes more than a
session: the current password (and the current code, when codes are on), and for a new
key a code from it before it is put in place. Each change signs the account's other
browsers out and is audited. A stolen session alone could drop the factor, or install
a key of its own, and keep the account for good."""

from __future__ import annotations

import secrets
import time
from contextlib import closing
from typing import Any

import pyotp
from sqlalchemy import select

from rostra.store.moderation_tables import audit_log
from rostra.store.staff_tables import staff_users
from tests.admin.conftest import PASSWORD, StaffMember, parse, staff_service
from tests.conftest import LiveServer


def _code(secret: str, steps: int = 0) -> str:
    """The secret's code ``steps`` steps of 30 seconds from now (one either way is taken)."""
    return str(pyotp.TOTP(secret).at(time.time() + 30 * steps))


def _alert(response: Any) -> str:
    return str(parse(response).xpath('string(//p[@role="alert"])'))


def _two_browsers(server: LiveServer) -> tuple[StaffMember, StaffMember]:
    """Two signed-in browsers of a new account that has no second factor yet."""
    name = "z" + secrets.token_hex(5)
    staff_service(server).create_user(name, PASSWORD)
    here, there = StaffMember(name, server.client()), StaffMember(name, server.client())
    assert here.login().status_code == 303
    assert there.login().status_code == 303
    return here, there


def _actions(server: LiveServer, user_id: int) -> list[str]:
    with server.services.db.read() as conn:
        return list(conn.scalars(select(audit_log.c.action).where(
            audit_log.c.target == f"staff:{user_id}").order_by(audit_log.c.id)))


def _stored(server: LiveServer, user_id: int) -> Any:
    with server.services.db.read() as conn:
        return conn.execute(select(staff_users.c.totp_secret, staff_users.c.totp_pending)
                            .where(staff_users.c.id == user_id)).one()


def test_turning_codes_off_asks_the_password_and_a_code_and_signs_out_the_rest(
        server: LiveServer) -> None:
    here, there = _two_browsers(server)
    service = staff_service(server)
    account = service.by_name(here.name)
    secret = service.enable_totp(account.id)
    with closing(here.http), closing(there.http):
        for form in ({}, {"password": "not the password", "code": _code(secret)},
                     {"password": PASSWORD}):
            refused = here.post("/admin/account", {"op": "totp_off", **form})
            assert refused.status_code == 422
            assert _alert(refused) == "Wrong current password or code."
            assert service.get(account.id).totp  # still on
        assert there.get("/admin/queue").status_code == 200
        off = here.post("/admin/account", {"op": "totp_off", "password": PASSWORD,
                                           "code": _code(secret)})
        assert (off.status_code, off.headers["location"]) == (303,
                                                              "/admin/account?done=totp_off")
        assert not service.get(account.id).totp
        assert here.get("/admin/queue").status_code == 200
        assert there.get("/admin/queue").status_code == 303  # signed out
    assert _actions(server, account.id) == ["totp_off"]


def test_a_new_key_asks_the_password_and_waits_for_a_code_from_it(
        server: LiveServer) -> None:
    here, there = _two_browsers(server)
    service = staff_service(server)
    account = service.by_name(here.name)
    with closing(here.http), closing(there.http):
        refused = here.post("/admin/account", {"op": "totp_on"})
        assert refused.status_code == 422
        assert _alert(refused) == "Wrong current password."
        assert parse(refused).xpath('//code[@class="secret"]') == []
        assert tuple(_stored(server, account.id)) == (None, None)
        page = here.post("/admin/account", {"op": "totp_on", "password": PASSWORD})
        assert page.status_code == 200
        secret = parse(page).xpath('string(//code[@class="secret"])')
        assert len(secret) >= 16
        assert not service.get(account.id).totp  # shown, not yet in place
        assert service.get(account.id).totp_pending
        with server.client() as http:  # signing in asks no code yet
            assert StaffMember(here.name, http).login().status_code == 303
        wrong = here.post("/admin/account", {"op": "totp_confirm",
                                             "code": _code(secret, 5)})
        assert wrong.status_code == 422
        assert _alert(wrong) == ("that code is not one of the new key's; try the code your "
                                 "app shows now")
        assert parse(wrong).xpath('//code[@class="secret"]') == []  # never shown again
        assert not service.get(account.id).totp
        assert there.get("/admin/queue").status_code == 200
        done = here.post("/admin/account", {"op": "totp_confirm", "code": _code(secret)})
        assert (done.status_code, done.headers["location"]) == (303,
                                                                "/admin/account?done=totp_on")
        assert service.get(account.id).totp and not service.get(account.id).totp_pending
        assert here.get("/admin/queue").status_code == 200
        assert there.get("/admin/queue").status_code == 303  # signed out
    with server.client() as http:
        member = StaffMember(here.name, http)
        assert member.login().status_code == 401  # the code is asked now
        assert member.login(code=_code(secret, 1)).status_code == 303
    assert _actions(server, account.id) == ["totp_on"]


def test_replacing_the_key_asks_the_current_code_and_keeps_the_old_key_until_confirmed(
        server: LiveServer) -> None:
    here, there = _two_browsers(server)
    service = staff_service(server)
    account = service.by_name(here.name)
    old = service.enable_totp(account.id)
    before = _stored(server, account.id).totp_secret
    with closing(here.http), closing(there.http):
        refused = here.post("/admin/account", {"op": "totp_on", "password": PASSWORD})
        assert refused.status_code == 422
        assert _alert(refused) == "Wrong current password or code."
        assert tuple(_stored(server, account.id)) == (before, None)
        page = here.post("/admin/account", {"op": "totp_on", "password": PASSWORD,
                                            "code": _code(old)})
        assert page.status_code == 200
        new = parse(page).xpath('string(//code[@class="secret"])')
        assert new and new != old
        assert _stored(server, account.id).totp_secret == before  # the old key still
        done = here.post("/admin/account", {"op": "totp_confirm", "code": _code(new)})
        assert done.status_code == 303
        assert _stored(server, account.id).totp_secret not in (before, None)
        assert there.get("/admin/queue").status_code == 303
        assert here.get("/admin/queue").status_code == 200
    with server.client() as http:
        member = StaffMember(here.name, http)
        assert member.login(code=_code(old, 1)).status_code == 401
        assert member.login(code=_code(new, 1)).status_code == 303
    assert _actions(server, account.id) == ["totp_on"]  # (the first set by the service)


def test_a_code_for_a_key_that_no_longer_waits_is_refused(server: LiveServer) -> None:
    here, there = _two_browsers(server)
    service = staff_service(server)
    with closing(here.http), closing(there.http):
        nothing = here.post("/admin/account", {"op": "totp_confirm", "code": "123456"})
        assert nothing.status_code == 422
        assert _alert(nothing) == "no new authenticator key is waiting; set one up again"
        first = parse(here.post("/admin/account", {"op": "totp_on", "password": PASSWORD}))
        second = parse(there.post("/admin/account", {"op": "totp_on", "password": PASSWORD}))
        dropped = first.xpath('string(//code[@class="secret"])')
        kept = second.xpath('string(//code[@class="secret"])')
        stale = here.post("/admin/account", {"op": "totp_confirm", "code": _code(dropped)})
        assert stale.status_code == 422  # the second setup replaced the first
        assert not service.by_name(here.name).totp
        assert there.post("/admin/account", {"op": "totp_confirm",
                                             "code": _code(kept)}).status_code == 303
        assert service.by_name(here.name).totp
