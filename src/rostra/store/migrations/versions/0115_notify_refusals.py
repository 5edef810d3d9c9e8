"""notify_refusals: a reader's "not me" to a site's confirmation emails

Revision ID: 0115
Revises: 0114

The one-click unsubscribe of a confirmation email ended the subscriptions it asked
about, and nothing more: a stranger could ask again from the site's form and the address
got another confirmation email an hour later, and every hour after. It now also keeps
the reader's "not me" for that site here, and the site's form asks that address nothing
more until its reader subscribes themselves (services/subscriptions.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import ID, UTCDateTime

revision = "0115"
down_revision = "0114"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_refusals",
        sa.Column("address_id", ID, sa.ForeignKey("notify_addresses.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("refused_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notify_refusals")
