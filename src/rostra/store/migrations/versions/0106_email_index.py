"""ix_comments_author_email_lower: comments found by their author's address

Revision ID: 0106
Revises: 0105

A reader's claim of their comments, the export of their data and its erasure look
comments up by ``lower(author_email)``; without an index on that expression each of
them read the whole table.

Building it holds writes to ``comments`` for as long as it takes. On a large PostgreSQL
database, build it first without that lock (``CREATE INDEX CONCURRENTLY IF NOT EXISTS
ix_comments_author_email_lower ON comments (lower(author_email))``, docs/deployment.md):
this migration then finds it and builds nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0106"
down_revision = "0105"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_comments_author_email_lower", "comments",
                    [sa.text("lower(author_email)")], if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_comments_author_email_lower", table_name="comments")
