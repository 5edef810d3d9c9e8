"""change_log: SQLite's change bus

Revision ID: 0113
Revises: 0112

On SQLite without Redis the processes serving one database (`rostra serve --workers N`,
the posting process, commands) had no change bus: each polled ``threads.updated_at`` and
told its open pages a bare "changed", which every page answered with a fetch of the
thread. Each commit now also writes its changes' bus messages here, and the other
processes read them a moment later (store/change_bus.py, SqliteBus). PostgreSQL has the
table too (one schema) and leaves it empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0113"
down_revision = "0112"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("change_log")
