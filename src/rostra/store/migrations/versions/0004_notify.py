"""notifications: addresses, subscriptions, outbox, webhooks

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = sa.text("sent_at IS NULL AND failed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "notify_addresses",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("confirmation_sent_at", UTCDateTime(), nullable=True),
        sa.Column("bounced_at", UTCDateTime(), nullable=True),
        sa.Column("bounce_reason", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_addresses")),
        sa.UniqueConstraint("email", name="uq_notify_addresses_email"),
    )
    op.create_table(
        "notify_subscriptions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("address_id", ID, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("thread_key", sa.String(1000), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["address_id"], ["notify_addresses.id"],
            name=op.f("fk_notify_subscriptions_address_id_notify_addresses"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"],
            name=op.f("fk_notify_subscriptions_site_id_sites"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_subscriptions")),
        sa.UniqueConstraint("address_id", "site_id", "thread_key", "kind",
                            name="uq_notify_subscriptions_address_thread_kind"),
    )
    op.create_index("ix_notify_subscriptions_thread", "notify_subscriptions",
                    ["site_id", "thread_key"])
    op.create_table(
        "notify_subscription_comments",
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("comment_id", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["notify_subscriptions.id"],
            name=op.f("fk_notify_subscription_comments_subscription_id_notify_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_notify_subscription_comments_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "comment_id",
                                name=op.f("pk_notify_subscription_comments")),
    )
    op.create_index("ix_notify_subscription_comments_comment", "notify_subscription_comments",
                    ["comment_id"])
    op.create_table(
        "notify_announced",
        sa.Column("comment_id", ID, nullable=False),
        sa.Column("announced_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"], ["comments.id"],
            name=op.f("fk_notify_announced_comment_id_comments"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_notify_announced")),
    )
    op.create_table(
        "notify_webhooks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"],
            name=op.f("fk_notify_webhooks_site_id_sites"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_webhooks")),
    )
    op.create_index("ix_notify_webhooks_site", "notify_webhooks", ["site_id"])
    op.create_table(
        "notify_outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("batch_key", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("address_id", ID, nullable=True),
        sa.Column("subscription_id", ID, nullable=True),
        sa.Column("webhook_id", ID, nullable=True),
        sa.Column("site_id", sa.String(64), nullable=True),
        sa.Column("thread_id", ID, nullable=True),
        sa.Column("comment_id", ID, nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("failed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["address_id"], ["notify_addresses.id"],
            name=op.f("fk_notify_outbox_address_id_notify_addresses"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"], ["notify_subscriptions.id"],
            name=op.f("fk_notify_outbox_subscription_id_notify_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["notify_webhooks.id"],
            name=op.f("fk_notify_outbox_webhook_id_notify_webhooks"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_outbox")),
    )
    op.create_index("ix_notify_outbox_pending", "notify_outbox", ["due_at"],
                    sqlite_where=PENDING, postgresql_where=PENDING)
    op.create_index("ix_notify_outbox_batch", "notify_outbox", ["batch_key"])


def downgrade() -> None:
    op.drop_index("ix_notify_outbox_batch", table_name="notify_outbox")
    op.drop_index("ix_notify_outbox_pending", table_name="notify_outbox")
    op.drop_table("notify_outbox")
    op.drop_index("ix_notify_webhooks_site", table_name="notify_webhooks")
    op.drop_table("notify_webhooks")
    op.drop_table("notify_announced")
    op.drop_index("ix_notify_subscription_comments_comment",
                  table_name="notify_subscription_comments")
    op.drop_table("notify_subscription_comments")
    op.drop_index("ix_notify_subscriptions_thread", table_name="notify_subscriptions")
    op.drop_table("notify_subscriptions")
    op.drop_table("notify_addresses")
