"""notify_subscriptions.confirmed_at, voter_id, account_id: consent per subscription

Revision ID: 0108
Revises: 0107

Double opt-in was per address: once an address was confirmed, anyone could subscribe it
to any thread. Each subscription now carries its own ``confirmed_at``; the
subscriptions of an address confirmed before this migration stay confirmed (from the
address's confirmation), the others wait for theirs. ``voter_id`` and ``account_id``
name the browser and the signed-in account that made a subscription, so that a
subscriber is never told of a comment of their own posted without an email.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0108"
down_revision = "0107"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notify_subscriptions") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("voter_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("account_id", sa.BigInteger().with_variant(
            sa.Integer(), "sqlite"), nullable=True))
    op.execute(sa.text(
        "UPDATE notify_subscriptions SET confirmed_at = (SELECT a.confirmed_at FROM "
        "notify_addresses a WHERE a.id = notify_subscriptions.address_id)"))


def downgrade() -> None:
    # The version before knows consent per address only: an address with an unconfirmed
    # subscription left would have it switched on by that version, so those go.
    op.execute(sa.text(
        "DELETE FROM notify_subscriptions WHERE confirmed_at IS NULL AND address_id IN "
        "(SELECT id FROM notify_addresses WHERE confirmed_at IS NOT NULL)"))
    with op.batch_alter_table("notify_subscriptions") as batch:
        batch.drop_column("account_id")
        batch.drop_column("voter_id")
        batch.drop_column("confirmed_at")
