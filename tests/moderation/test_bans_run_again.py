"""A moderator's ban, its lifting and its extension survive a deadlock or a connection
lost on a statement (a PostgreSQL restart or failover, likely enough in the middle of a
spam wave): each ran outside ``attempts`` and answered 500; each now runs again, once.
Not after a COMMIT lost with its connection: a second try would place a second ban, or
audit the change twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from rostra.store.moderation_tables import audit_log, bans
from tests.conftest import CONNECTION_LOST, DEADLOCK, LiveServer, Reader, first_try_fails
from tests.moderation.conftest import STAFF, new_site

pytestmark = pytest.mark.postgres

FAILURES = [DEADLOCK, CONNECTION_LOST]
IDS = ["deadlock", "lost on the statement"]


def _audited(server: LiveServer, action: str, ban_id: int) -> int:
    with server.services.db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(audit_log).where(
            audit_log.c.action == action, audit_log.c.target == f"ban:{ban_id}")) or 0)


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_a_ban_its_extension_and_its_lifting_run_again(
    mod_postgres: LiveServer, failure: str,
) -> None:
    server = mod_postgres
    site = new_site(server)
    with server.client() as http:
        with first_try_fails(server, "INSERT", f"NEW.site_id = '{site}'", failure,
                             table="bans") as tried:
            placed = http.post("/api/moderation/bans", headers=STAFF, json={
                "site": site, "kind": "email", "value": "troll@example.org",
                "reason": "abuse"})
            assert tried() == 2
        assert placed.status_code == 201, placed.text
        ban_id = placed.json()["ban"]["id"]
        refused = Reader("Ana", http, site).post("/story", "From the banned address.",
                                                 email="troll@example.org")
        assert refused.status_code == 422, refused.text

        with first_try_fails(server, "UPDATE", f"NEW.id = {ban_id} AND NEW.expires_at IS "
                             "DISTINCT FROM OLD.expires_at", failure, table="bans") as tried:
            extended = server.app.app.state.moderation.service.extend(
                ban_id, 3600, actor="admin")
            assert tried() == 2
        assert extended["expires_at"] is not None

        with first_try_fails(server, "UPDATE", f"NEW.id = {ban_id} AND NEW.lifted_at IS "
                             "NOT NULL AND OLD.lifted_at IS NULL", failure,
                             table="bans") as tried:
            lifted = http.delete(f"/api/moderation/bans/{ban_id}", headers=STAFF)
            assert tried() == 2
        assert lifted.status_code == 200 and lifted.json()["ban"]["active"] is False
    with server.services.db.read() as conn:
        placed_bans = conn.scalar(select(func.count()).select_from(bans)
                                  .where(bans.c.site_id == site))
    assert placed_bans == 1
    assert [_audited(server, action, ban_id) for action in ("ban", "extend_ban", "unban")] == [
        1, 1, 1]
