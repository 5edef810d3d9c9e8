"""A password changed while a sign-in with the old one is being checked opens no session
(PostgreSQL, where the two run side by side). Checking a password takes a tenth of a
second (argon2); a new password set meanwhile (by its owner, an administrator, or
`rostra user password`) ended every session, and the sign-in then opened one with the
old password anyway, and, where the old hash was due an upgrade, wrote the old
password's hash over the new one: whoever held the old password kept the account."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import func, select, update

from rostra.core.errors import Unauthorized
from rostra.services.staff_sign_in import PASSWORDS
from rostra.store.staff_tables import staff_sessions, staff_users
from tests.admin.conftest import PASSWORD, staff_service
from tests.conftest import LiveServer, side_by_side

pytestmark = pytest.mark.postgres

NEW_PASSWORD = "a brand new and long password"


def test_a_password_changed_during_a_sign_in_opens_no_session(
    pg_live_server: LiveServer,
) -> None:
    server = pg_live_server
    service = staff_service(server)
    account = service.create_user("desk-" + secrets.token_hex(4), PASSWORD)

    def change_the_password(conn: Any) -> None:
        conn.execute(update(staff_users).where(staff_users.c.id == account.id)
                     .values(password_hash=PASSWORDS.hash(NEW_PASSWORD)))
        conn.execute(staff_sessions.delete().where(staff_sessions.c.user_id == account.id))

    # The password change holds the account's row while the sign-in is checked.
    answer = side_by_side(
        server, "SELECT id FROM staff_users WHERE id = :id FOR UPDATE", {"id": account.id},
        [lambda: service.login(account.name, PASSWORD, ip=None)], change_the_password)
    assert len(answer) == 1 and isinstance(answer[0], Unauthorized), answer
    with server.services.db.read() as conn:
        sessions = conn.scalar(select(func.count()).select_from(staff_sessions)
                               .where(staff_sessions.c.user_id == account.id))
    assert sessions == 0
    assert service.login(account.name, NEW_PASSWORD, ip=None).token
