"""dsa_notices: the notifier's one complaint against a "no action" decision (Art. 20)

Revision ID: 0118
Revises: 0117

Art. 20(1) gives the internal complaint right to those who filed a notice as well as to
authors: a notifier told "the comment stays" may complain once, for six months, and a
moderator other than the first decider decides it. Kept on the notice, as an author's
appeal is kept on its statement.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0118"
down_revision = "0117"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in (sa.Column("complaint_text", sa.Text(), nullable=True),
                   sa.Column("complained_at", UTCDateTime(), nullable=True),
                   sa.Column("complaint_outcome", sa.String(16), nullable=True),
                   sa.Column("complaint_decided_by", sa.String(200), nullable=True),
                   sa.Column("complaint_decided_at", UTCDateTime(), nullable=True),
                   sa.Column("complaint_reason", sa.Text(), nullable=True)):
        op.add_column("dsa_notices", column)
    op.create_index("ix_dsa_notices_site_complained", "dsa_notices",
                    ["site_id", "complained_at"])


def downgrade() -> None:
    op.drop_index("ix_dsa_notices_site_complained", table_name="dsa_notices")
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild would reflect the comments table
    # its foreign key names, whose expression index SQLAlchemy cannot reflect.
    for column in ("complaint_reason", "complaint_decided_at", "complaint_decided_by",
                   "complaint_outcome", "complained_at", "complaint_text"):
        op.execute(f"ALTER TABLE dsa_notices DROP COLUMN {column}")
