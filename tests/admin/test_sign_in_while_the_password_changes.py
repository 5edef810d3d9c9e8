"""A password changed while a sign-in with the old one is being checked opens no session
(PostgreSQL, where the two run side by side). Checking a password takes a tenth of a
second (argon2); a new password set meanwhile (by its owner, an administrator, or
`rostra user password`) ended every session, and the sign-in then opened one with the
old password anyway, and, where the old hash was due an upgrade, wrote the old
password's hash over the new one: whoever held the old password kept the account."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from rostra.core.errors import Unauthorized
from rostra.services.staff_sign_in import PASSWORDS
from rostra.store.staff_tables import staff_sessions, staff_users
from tests.admin.conftest import PASSWORD, staff_service
from tests.conftest import LiveServer

pytestmark = pytest.mark.postgres

NEW_PASSWORD = "a brand new and long password"


def test_a_password_changed_during_a_sign_in_opens_no_session(
    pg_live_server: LiveServer,
) -> None:
    server = pg_live_server
    service = staff_service(server)
    account = service.create_user("desk-" + secrets.token_hex(4), PASSWORD)
    answer: list[Any] = []

    def sign_in() -> None:
        try:
            answer.append(service.login(account.name, PASSWORD, ip=None))
        except Exception as exc:  # noqa: BLE001 - checked below
            answer.append(exc)

    with server.services.db.engine.connect() as changing:
        # The password change holds the account's row while the sign-in is checked.
        changing.execute(select(staff_users.c.id).where(staff_users.c.id == account.id)
                         .with_for_update())
        signing = threading.Thread(target=sign_in)
        signing.start()
        deadline = time.monotonic() + 10
        while True:
            changing.execute(text("SELECT pg_stat_clear_snapshot()"))
            if changing.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()")
            ).scalar_one():
                break
            assert time.monotonic() < deadline, "the sign-in did not reach its write"
            time.sleep(0.02)
        changing.execute(update(staff_users).where(staff_users.c.id == account.id)
                         .values(password_hash=PASSWORDS.hash(NEW_PASSWORD)))
        changing.execute(staff_sessions.delete().where(staff_sessions.c.user_id == account.id))
        changing.commit()
    signing.join(timeout=30)
    assert len(answer) == 1 and isinstance(answer[0], Unauthorized), answer
    with server.services.db.read() as conn:
        sessions = conn.scalar(select(func.count()).select_from(staff_sessions)
                               .where(staff_sessions.c.user_id == account.id))
    assert sessions == 0
    assert service.login(account.name, NEW_PASSWORD, ip=None).token
