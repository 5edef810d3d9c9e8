"""moderation: audit log, bans, flags, used proof-of-work, embeddings, site heads,
author reputation

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_site_created", "audit_log", ["site_id", "created_at"])
    op.create_index("ix_audit_log_target", "audit_log", ["target"])
    op.create_table(
        "bans",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("label", sa.String(400), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.Column("lifted_by", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_bans_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bans")),
    )
    op.create_index("ix_bans_site_value", "bans", ["site_id", "value"])
    op.create_table(
        "flags",
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("reader", sa.String(80), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("ip_hash", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"], name=op.f("fk_flags_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", "reader", name=op.f("pk_flags")),
    )
    op.create_index("ix_flags_open", "flags", ["resolved_at", "comment_id"])
    op.create_table(
        "pow_used",
        sa.Column("challenge", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("challenge", name=op.f("pk_pow_used")),
    )
    op.create_index("ix_pow_used_expires", "pow_used", ["expires_at"])
    op.create_table(
        "comment_embeddings",
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("encoder", sa.String(32), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_comment_embeddings_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_comment_embeddings")),
    )
    op.create_table(
        "site_heads",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("encoder", sa.String(32), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_heads_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "encoder", name=op.f("pk_site_heads")),
    )
    op.create_table(
        "author_stats",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("spam", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_author_stats_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "author", name=op.f("pk_author_stats")),
    )


def downgrade() -> None:
    op.drop_table("author_stats")
    op.drop_table("site_heads")
    op.drop_table("comment_embeddings")
    op.drop_index("ix_pow_used_expires", table_name="pow_used")
    op.drop_table("pow_used")
    op.drop_index("ix_flags_open", table_name="flags")
    op.drop_table("flags")
    op.drop_index("ix_bans_site_value", table_name="bans")
    op.drop_table("bans")
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    op.drop_index("ix_audit_log_site_created", table_name="audit_log")
    op.drop_table("audit_log")
