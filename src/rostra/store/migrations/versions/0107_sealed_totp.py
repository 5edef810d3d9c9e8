"""staff_users.totp_secret: 255 characters, room for a sealed secret

Revision ID: 0107
Revises: 0106

Secrets the database keeps are sealed with a key derived from ``secret_key``
(``rostra/core/sealing.py``); a sealed TOTP secret is about 100 characters, more than
the 64 a plain base32 one needed. The downgrade refuses while a longer value is stored:
the version before cannot read sealed secrets (``rostra secrets unseal`` first).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0107"
down_revision = "0106"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(64), type_=sa.String(255),
                           existing_nullable=True)


def downgrade() -> None:
    longer = op.get_bind().scalar(sa.text(
        "SELECT count(*) FROM staff_users WHERE length(totp_secret) > 64"))
    if longer:
        raise RuntimeError(f"{longer} staff TOTP secret(s) are sealed, which the version "
                           "before cannot read: run `rostra secrets unseal` first")
    with op.batch_alter_table("staff_users") as batch:
        batch.alter_column("totp_secret", existing_type=sa.String(255), type_=sa.String(64),
                           existing_nullable=True)
