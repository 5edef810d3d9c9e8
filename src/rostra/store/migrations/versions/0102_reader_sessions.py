"""sessions as rows: readers' sessions, email sign-in links, staff sessions' devices

Revision ID: 0102
Revises: 0101

Readers signed in with OpenID Connect held a signed token valid for 30 days that
nothing could revoke; from here on every session is a row, and the old tokens are no
longer accepted (those readers sign in again).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0102"
down_revision = "0101"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("reader_accounts") as batch:
        batch.add_column(sa.Column("email_verified", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("staff_sessions") as batch:
        batch.add_column(sa.Column("method", sa.String(16), nullable=True))
        batch.add_column(sa.Column("device", sa.String(200), nullable=True))
        batch.add_column(sa.Column("ip_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("seen_at", UTCDateTime(), nullable=True))
    op.create_table(
        "reader_sessions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("device", sa.String(200), nullable=True),
        sa.Column("ip_hash", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["reader_accounts.id"],
                                name=op.f("fk_reader_sessions_account_id_reader_accounts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_reader_sessions_site_id_sites"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_reader_sessions_token_hash")),
    )
    op.create_index("ix_reader_sessions_account_id", "reader_sessions", ["account_id"])
    op.create_table(
        "reader_sign_in_links",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(400), nullable=True),
        sa.Column("page_url", sa.String(2000), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("ip_hash", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("account_id", ID, nullable=True),
        sa.Column("code_hash", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["reader_accounts.id"],
                                name=op.f("fk_reader_sign_in_links_account_id_reader_accounts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_reader_sign_in_links_site_id_sites"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_sign_in_links")),
    )
    op.create_index("ix_reader_sign_in_links_email", "reader_sign_in_links",
                    ["email", "created_at"])
    op.create_index("ix_reader_sign_in_links_ip_hash", "reader_sign_in_links",
                    ["ip_hash", "created_at"])
    op.create_index("ix_reader_sign_in_links_code_hash", "reader_sign_in_links", ["code_hash"])


def downgrade() -> None:
    op.drop_table("reader_sign_in_links")
    op.drop_table("reader_sessions")
    with op.batch_alter_table("staff_sessions") as batch:
        batch.drop_column("seen_at")
        batch.drop_column("ip_hash")
        batch.drop_column("device")
        batch.drop_column("method")
    with op.batch_alter_table("reader_accounts") as batch:
        batch.drop_column("email_verified")
