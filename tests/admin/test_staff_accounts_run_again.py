"""A staff account's own changes survive a deadlock or a connection lost on a statement
(a PostgreSQL restart or failover): a new password, being disabled and enabled, a second
factor set and dropped each ran outside ``attempts`` and answered 500 (or, from the
command line, failed). Each runs again, also after a COMMIT lost with its connection:
each sets what it sets."""

from __future__ import annotations

import secrets

import pytest

from tests.admin.conftest import PASSWORD, staff_service
from tests.conftest import CONNECTION_LOST, DEADLOCK, LiveServer, first_try_fails

pytestmark = pytest.mark.postgres

FAILURES = [(DEADLOCK, False), (CONNECTION_LOST, False), (CONNECTION_LOST, True)]
IDS = ["deadlock", "lost on the statement", "lost at commit"]


@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_a_staff_accounts_own_changes_run_again(
    pg_live_server: LiveServer, failure: str, at_commit: bool,
) -> None:
    server = pg_live_server
    service = staff_service(server)
    account = service.create_user("desk-" + secrets.token_hex(4), PASSWORD)
    mine = f"NEW.id = {account.id}"
    changes = [
        ("NEW.password_hash <> OLD.password_hash",
         lambda: service.set_password(account.id, "a new and long password")),
        ("NEW.disabled AND NOT OLD.disabled", lambda: service.set_disabled(account.id, True)),
        ("OLD.disabled AND NOT NEW.disabled", lambda: service.set_disabled(account.id, False)),
        ("NEW.totp_secret IS NOT NULL", lambda: service.enable_totp(account.id)),
        ("NEW.totp_secret IS NULL AND OLD.totp_secret IS NOT NULL",
         lambda: service.disable_totp(account.id)),
    ]
    for condition, change in changes:
        with first_try_fails(server, "UPDATE", f"{mine} AND {condition}", failure,
                             table="staff_users", at_commit=at_commit) as tried:
            change()
            assert tried() == 2, condition
    after = service.get(account.id)
    assert not after.disabled and not after.totp
    signed = service.login(account.name, "a new and long password", ip=None)
    assert signed.token
