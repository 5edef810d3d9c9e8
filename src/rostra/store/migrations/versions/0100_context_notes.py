"""context notes under comments, and readers' ratings of proposed ones

Revision ID: 0100
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0100"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "comment_notes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("staff_author", sa.String(100), nullable=True),
        sa.Column("account_id", ID, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("helpfulness", sa.Float(), nullable=True),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('proposed', 'published', 'withdrawn')",
                           name=op.f("ck_comment_notes_note_status")),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"],
                                name=op.f("fk_comment_notes_comment_id_comments"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_comment_notes_site_id_sites"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_notes")),
    )
    op.create_index("ix_comment_notes_comment", "comment_notes", ["comment_id"])
    op.create_index("ix_comment_notes_site_status", "comment_notes", ["site_id", "status"])
    op.create_table(
        "note_ratings",
        sa.Column("note_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["note_id"], ["comment_notes.id"],
                                name=op.f("fk_note_ratings_note_id_comment_notes"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("note_id", "account_id", name=op.f("pk_note_ratings")),
    )


def downgrade() -> None:
    op.drop_table("note_ratings")
    op.drop_index("ix_comment_notes_site_status", table_name="comment_notes")
    op.drop_index("ix_comment_notes_comment", table_name="comment_notes")
    op.drop_table("comment_notes")
