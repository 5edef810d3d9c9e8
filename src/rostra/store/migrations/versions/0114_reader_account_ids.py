"""reader_accounts: ids never given twice (SQLite AUTOINCREMENT)

Revision ID: 0114
Revises: 0113

Bans of an account, reputation, votes and flags are kept under "a:<account id>", and
an erasure (`rostra privacy forget`) deletes the person's accounts while a ban placed
from their comments stays in force. On SQLite the ids were plain rowids, which SQLite
hands out again once the newest row is deleted: the next reader to sign in got the erased
person's id and, with it, their ban and reputation. The table is rebuilt with
AUTOINCREMENT. PostgreSQL's sequence never gave an id twice: nothing changes there.

Rebuilding drops the old table, which deletes its sessions, sign-in links and passkeys
by ON DELETE CASCADE when foreign keys are enforced (they cannot be turned off inside
the migration's transaction; ``rostra.store.migrate.upgrade`` now turns them off
before it, but a migration run another way may not): they are copied aside first and
put back.
"""

from __future__ import annotations

from alembic import op

revision = "0114"
down_revision = "0113"
branch_labels = None
depends_on = None

# The tables whose rows name an account, and which of their rows do.
_CHILDREN = (("reader_sessions", "1 = 1"),
             ("reader_sign_in_links", "account_id IS NOT NULL"),
             ("passkeys", "account_id IS NOT NULL"))


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, which in _CHILDREN:
        op.execute(f"CREATE TEMP TABLE _kept_{table} AS SELECT * FROM {table} WHERE {which}")
    with op.batch_alter_table("reader_accounts", recreate="always",
                              table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass
    for table, which in _CHILDREN:
        op.execute(f"DELETE FROM {table} WHERE {which}")  # none left; to be sure
        op.execute(f"INSERT INTO {table} SELECT * FROM _kept_{table}")
        op.execute(f"DROP TABLE _kept_{table}")


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
