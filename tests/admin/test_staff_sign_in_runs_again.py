"""Signing staff in, new staff accounts, their roles and the reader accounts tied to
them survive a deadlock or a connection lost on a statement (a PostgreSQL restart or
failover): each ran outside ``attempts`` and answered 500 (or, from the command line,
failed). Each runs again; those that set what they set (the session a sign-in opens,
a role, a tie) also after a COMMIT lost with its connection."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from rostra.store.staff_tables import staff_login_failures, staff_sessions, staff_users
from tests.admin.conftest import PASSWORD, Newsroom, StaffMember, staff_service
from tests.conftest import CONNECTION_LOST, DEADLOCK, LiveServer, first_try_fails

pytestmark = pytest.mark.postgres

FAILURES = [(DEADLOCK, False), (CONNECTION_LOST, False), (CONNECTION_LOST, True)]
IDS = ["deadlock", "lost on the statement", "lost at commit"]
ON_A_STATEMENT = FAILURES[:2]


def _count(server: LiveServer, table: object, *where: object) -> int:
    with server.services.db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


@pytest.mark.parametrize("server", ["postgres"], indirect=True)
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_signing_in_opens_one_session(newsroom: Newsroom, failure: str,
                                      at_commit: bool) -> None:
    room = newsroom
    account = staff_service(room.server).by_name(room.moderator.name)
    again = StaffMember(room.moderator.name, room.server.client())
    try:
        before = _count(room.server, staff_sessions, staff_sessions.c.user_id == account.id)
        with first_try_fails(room.server, "INSERT", f"NEW.user_id = {account.id}", failure,
                             table="staff_sessions", at_commit=at_commit) as tried:
            signed = again.login()
            assert tried() == 2
        assert signed.status_code == 303, signed.text[:300]
        assert again.get("/admin/queue").status_code == 200
        # One session more, whichever try committed it; the attempt's slots given back.
        assert _count(room.server, staff_sessions,
                      staff_sessions.c.user_id == account.id) == before + 1
        assert _count(room.server, staff_login_failures,
                      staff_login_failures.c.key == f"n:{account.name.casefold()}") == 0
    finally:
        again.http.close()


@pytest.mark.parametrize("server", ["postgres"], indirect=True)
@pytest.mark.parametrize("failure", [f for f, _ in ON_A_STATEMENT], ids=IDS[:2])
def test_counting_a_sign_in_runs_again(newsroom: Newsroom, failure: str) -> None:
    """The attempt's slots (taken before the password is checked) are counted once."""
    room = newsroom
    key = f"n:{room.owner.name.casefold()}"
    guesser = StaffMember(room.owner.name, room.server.client())
    try:
        with first_try_fails(room.server, "INSERT", f"NEW.key = '{key}'", failure,
                             table="staff_login_failures") as tried:
            wrong = guesser.login("not the password at all")
            assert tried() == 2
        assert wrong.status_code == 401, wrong.text[:300]
        assert _count(room.server, staff_login_failures,
                      staff_login_failures.c.key == key) == 1
    finally:
        guesser.http.close()


@pytest.mark.parametrize("failure", [f for f, _ in ON_A_STATEMENT], ids=IDS[:2])
def test_a_new_staff_account_is_made_once(pg_live_server: LiveServer, failure: str) -> None:
    server = pg_live_server
    name = "new-" + secrets.token_hex(4)
    with first_try_fails(server, "INSERT", f"NEW.name = '{name}'", failure,
                         table="staff_users") as tried:
        account = staff_service(server).create_user(name, PASSWORD)
        assert tried() == 2
    assert account.name == name
    assert _count(server, staff_users, staff_users.c.name == name) == 1


def test_a_new_staff_account_whose_commit_was_lost_is_not_made_twice(
    pg_live_server: LiveServer,
) -> None:
    """It may have committed: a second try would find its name taken by the first and
    say so, so the error is the lost connection's."""
    server = pg_live_server
    name = "new-" + secrets.token_hex(4)
    with first_try_fails(server, "INSERT", f"NEW.name = '{name}'", CONNECTION_LOST,
                         table="staff_users", at_commit=True) as tried:
        with pytest.raises(OperationalError):
            staff_service(server).create_user(name, PASSWORD)
        assert tried() == 1


@pytest.mark.parametrize("server", ["postgres"], indirect=True)
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_a_role_and_a_tied_reader_account_are_set_again(
    newsroom: Newsroom, failure: str, at_commit: bool,
) -> None:
    room = newsroom
    service = staff_service(room.server)
    person = service.create_user("desk-" + secrets.token_hex(4), PASSWORD)
    subject = f"email:{secrets.token_hex(4)}@a.example"
    room.server.services.accounts.sign_in(room.site_a, subject, "Desk", None)
    mine = f"NEW.user_id = {person.id}"
    with first_try_fails(room.server, "INSERT", mine, failure, table="staff_roles",
                         at_commit=at_commit) as tried:
        granted = service.grant(person.id, room.site_a, "moderator")
        assert tried() == 2
    assert granted.roles == {room.site_a: "moderator"}
    with first_try_fails(room.server, "UPDATE", f"NEW.staff_user_id = {person.id}", failure,
                         table="reader_accounts", at_commit=at_commit) as tried:
        service.link_reader(person.id, room.site_a, subject)
        assert tried() == 2
    assert service.linked_readers(person.id) == [(room.site_a, subject)]
    if at_commit:
        return  # untying is not run again after a lost COMMIT: it would say "not tied"
    with first_try_fails(room.server, "UPDATE", "NEW.staff_user_id IS NULL", failure,
                         table="reader_accounts") as tried:
        assert service.unlink_reader(room.site_a, subject)
        assert tried() == 2
    assert service.linked_readers(person.id) == []
