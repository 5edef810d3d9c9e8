"""staff: accounts, roles per site, sessions, failed logins, comment revisions and pins

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("name", name=op.f("uq_staff_users_name")),
    )
    op.create_table(
        "staff_roles",
        sa.Column("user_id", ID, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'moderator')", name=op.f("ck_staff_roles_role")),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"],
                                name=op.f("fk_staff_roles_user_id_staff_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_staff_roles_site_id_sites"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "site_id", name=op.f("pk_staff_roles")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("last_action", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"],
                                name=op.f("fk_staff_sessions_user_id_staff_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index("ix_staff_sessions_user", "staff_sessions", ["user_id"])
    op.create_table(
        "staff_login_failures",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_failures")),
    )
    op.create_index("ix_staff_login_failures_key", "staff_login_failures",
                    ["key", "created_at"])
    op.create_table(
        "comment_revisions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"],
                                name=op.f("fk_comment_revisions_comment_id_comments"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_revisions")),
    )
    op.create_index("ix_comment_revisions_comment", "comment_revisions", ["comment_id"])
    op.create_table(
        "comment_pins",
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('featured', 'pinned')", name=op.f("ck_comment_pins_kind")),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"],
                                name=op.f("fk_comment_pins_comment_id_comments"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_comment_pins_site_id_sites"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_comment_pins")),
    )
    op.create_index("ix_comment_pins_site", "comment_pins", ["site_id"])


def downgrade() -> None:
    op.drop_index("ix_comment_pins_site", table_name="comment_pins")
    op.drop_table("comment_pins")
    op.drop_index("ix_comment_revisions_comment", table_name="comment_revisions")
    op.drop_table("comment_revisions")
    op.drop_index("ix_staff_login_failures_key", table_name="staff_login_failures")
    op.drop_table("staff_login_failures")
    op.drop_index("ix_staff_sessions_user", table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_roles")
    op.drop_table("staff_users")
