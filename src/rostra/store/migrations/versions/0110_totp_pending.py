"""staff_users.totp_pending: a new TOTP secret waiting for its first code

Revision ID: 0110
Revises: 0109

The account page used to put a new TOTP secret in place at once, with only a session:
a stolen session could replace the second factor. A new secret now waits here (sealed
as ``totp_secret`` is) until a code from it is entered, and only then replaces the
account's ``totp_secret``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0110"
down_revision = "0109"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("totp_pending", sa.String(255), nullable=True))


def downgrade() -> None:
    # A secret never confirmed goes: the version before has nowhere to keep it.
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_pending")
