"""ix_comments_thread_top_rank: Most Voted ranks a tombstone as a comment without votes

Revision ID: 0109
Revises: 0108

A comment removed but kept as a tombstone (it has replies) shows no votes, and Most
Voted now ranks it as a comment without any: the order is by ``CASE WHEN state =
'approved' THEN score ELSE 0 END``. This index on that expression replaces
``ix_comments_thread_top_score``, so that a page of Most Voted is still read in index
order, without sorting the thread's comments.

Building it holds writes to ``comments`` for as long as it takes. On a large PostgreSQL
database, build it first without that lock (docs/deployment.md): this migration then
finds it and builds nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0109"
down_revision = "0108"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_comments_thread_top_rank", "comments", [
        "thread_id", "parent_id",
        sa.text("(CASE WHEN state = 'approved' THEN score ELSE 0 END)"),
        "created_at", "id",
    ], if_not_exists=True)
    op.drop_index("ix_comments_thread_top_score", table_name="comments", if_exists=True)


def downgrade() -> None:
    op.create_index("ix_comments_thread_top_score", "comments",
                    ["thread_id", "parent_id", "score", "created_at", "id"])
    op.drop_index("ix_comments_thread_top_rank", table_name="comments")
