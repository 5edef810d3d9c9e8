"""passkeys: WebAuthn credentials of readers and staff, and ceremony challenges

Revision ID: 0103
Revises: 0102
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0103"
down_revision = "0102"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "passkeys",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("credential_hash", sa.String(64), nullable=False),
        sa.Column("credential_id", sa.String(1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=True),
        sa.Column("account_id", ID, nullable=True),
        sa.Column("staff_user_id", ID, nullable=True),
        sa.Column("rp_id", sa.String(253), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("(account_id IS NULL) <> (staff_user_id IS NULL)",
                           name=op.f("ck_passkeys_one_owner")),
        sa.ForeignKeyConstraint(["account_id"], ["reader_accounts.id"],
                                name=op.f("fk_passkeys_account_id_reader_accounts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"],
                                name=op.f("fk_passkeys_staff_user_id_staff_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkeys")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_passkeys_credential_hash")),
    )
    op.create_index("ix_passkeys_account_id", "passkeys", ["account_id"])
    op.create_index("ix_passkeys_staff_user_id", "passkeys", ["staff_user_id"])
    op.create_table(
        "webauthn_challenges",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("challenge", sa.LargeBinary(), nullable=False),
        sa.Column("purpose", sa.String(120), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webauthn_challenges")),
    )
    op.create_index("ix_webauthn_challenges_expires_at", "webauthn_challenges", ["expires_at"])


def downgrade() -> None:
    op.drop_table("webauthn_challenges")
    op.drop_table("passkeys")
