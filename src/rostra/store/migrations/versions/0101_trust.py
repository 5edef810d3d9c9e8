"""earned trust: upheld DSA notices count in an author's history

Revision ID: 0101
Revises: 0100
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0101"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("author_stats") as batch:
        batch.add_column(sa.Column("notices", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("author_stats") as batch:
        batch.drop_column("notices")
