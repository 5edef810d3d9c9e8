"""staff_users.totp_step: the last TOTP time step an account's code was taken for

Revision ID: 0111
Revises: 0110

A TOTP code was taken as often as it was typed within its 90 seconds: one seen over a
shoulder, or caught with the password, signed in a second browser. Each account now
keeps the time step of the last code it took, and a code of that step or one before is
refused.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0111"
down_revision = "0110"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("totp_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_step")
