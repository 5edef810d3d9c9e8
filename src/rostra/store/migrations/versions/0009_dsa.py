"""DSA notice and action: notices of illegal content, statements of reasons, appeals

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dsa_notices",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("comment_id", ID, nullable=True),
        sa.Column("ground", sa.String(64), nullable=False),
        sa.Column("ground_label", sa.String(200), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("notifier_name", sa.String(200), nullable=True),
        sa.Column("notifier_email", sa.String(320), nullable=True),
        sa.Column("good_faith", sa.Boolean(), nullable=False),
        sa.Column("reporter", sa.String(80), nullable=True),
        sa.Column("ip_hash", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deadline_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_dsa_notices_site_id_sites"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"],
                                name=op.f("fk_dsa_notices_comment_id_comments"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsa_notices")),
    )
    op.create_index("ix_dsa_notices_site_status", "dsa_notices",
                    ["site_id", "status", "deadline_at"])
    op.create_index("ix_dsa_notices_site_created", "dsa_notices", ["site_id", "created_at"])
    op.create_index("ix_dsa_notices_comment", "dsa_notices", ["comment_id"])
    op.create_table(
        "dsa_statements",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("comment_id", ID, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("restriction", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("notice_id", ID, nullable=True),
        sa.Column("ground_kind", sa.String(16), nullable=False),
        sa.Column("ground", sa.String(200), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("automated_detection", sa.Boolean(), nullable=False),
        sa.Column("automated_decision", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.Column("appeal_text", sa.Text(), nullable=True),
        sa.Column("appealed_at", UTCDateTime(), nullable=True),
        sa.Column("appeal_outcome", sa.String(16), nullable=True),
        sa.Column("appeal_decided_by", sa.String(200), nullable=True),
        sa.Column("appeal_decided_at", UTCDateTime(), nullable=True),
        sa.Column("appeal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_dsa_statements_site_id_sites"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"],
                                name=op.f("fk_dsa_statements_comment_id_comments"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dsa_statements")),
    )
    op.create_index("ix_dsa_statements_site_created", "dsa_statements",
                    ["site_id", "created_at"])
    op.create_index("ix_dsa_statements_comment", "dsa_statements", ["comment_id"])
    op.create_index("ix_dsa_statements_site_appealed", "dsa_statements",
                    ["site_id", "appealed_at"])


def downgrade() -> None:
    op.drop_table("dsa_statements")
    op.drop_table("dsa_notices")
