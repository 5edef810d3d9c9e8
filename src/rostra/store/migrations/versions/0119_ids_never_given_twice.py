"""AUTOINCREMENT on SQLite for the tables whose ids emailed links carry

Revision ID: 0119
Revises: 0118

A sign-in link's token signs its row's id, a confirmation email's links name
subscription ids, and DSA emails' links statement and notice ids; the rows are checked
again on use. SQLite without AUTOINCREMENT gives the newest row's id again once that row
is deleted: a reader who had their data erased kept, in their mailbox, a link that
signed in whoever asked for a sign-in link next (the row with its id was theirs now),
and a confirmation's links named another site's subscription of the same address. The
tables are rebuilt with AUTOINCREMENT; ids already given stay. PostgreSQL's sequences
never gave an id twice: nothing changes there.

Rebuilding drops each old table: ``rostra.store.migrate.upgrade`` runs migrations with
foreign keys off, so the rows naming them (a subscription's followed comments, a
notice's statements) stay.
"""

from __future__ import annotations

import warnings

from alembic import op
from sqlalchemy.exc import SAWarning

revision = "0119"
down_revision = "0118"
branch_labels = None
depends_on = None

TABLES = ("reader_sign_in_links", "notify_subscriptions", "dsa_notices", "dsa_statements")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with warnings.catch_warnings():
            # Reflecting a table reflects those its foreign keys name: reader_accounts'
            # index on lower(email) is skipped there, and stays (that table is not
            # rebuilt).
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of "
                                    "expression-based index", SAWarning)
            with op.batch_alter_table(table, recreate="always",
                                      table_kwargs={"sqlite_autoincrement": autoincrement}):
                pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
