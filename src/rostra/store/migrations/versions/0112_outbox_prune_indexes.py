"""ix_notify_outbox_sent, ix_notify_outbox_failed: the outbox's prune reads by index

Revision ID: 0112
Revises: 0111

The worker deletes the outbox rows sent or given up more than
``notify_outbox_retention_days`` ago, hourly, a chunk at a time; with neither
``sent_at`` nor ``failed_at`` indexed, each chunk read the whole table, also when
nothing was old enough to go. Each index holds only the rows that have its stamp
(partial): a waiting message is in neither.

Building them holds writes to ``notify_outbox`` (every comment that notifies anyone
writes there) for as long as it takes. On a large PostgreSQL database, build them first
without that lock (docs/deployment.md): this migration then finds them and builds
nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0112"
down_revision = "0111"
branch_labels = None
depends_on = None

SENT = sa.text("sent_at IS NOT NULL")
FAILED = sa.text("failed_at IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_notify_outbox_sent", "notify_outbox", ["sent_at"],
                    sqlite_where=SENT, postgresql_where=SENT, if_not_exists=True)
    op.create_index("ix_notify_outbox_failed", "notify_outbox", ["failed_at"],
                    sqlite_where=FAILED, postgresql_where=FAILED, if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_notify_outbox_failed", table_name="notify_outbox")
    op.drop_index("ix_notify_outbox_sent", table_name="notify_outbox")
