"""Tables of the notifications feature: addresses, subscriptions, outbox, webhooks.

They live on the shared ``metadata``; migration 0004 creates exactly these, 0008
stores webhook secrets in the Standard Webhooks form, 0108 gives each subscription its
own confirmation, 0112 indexes the outbox for its prune, and 0115 keeps readers'
"not me" (notify_refusals).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from rostra.store.tables import ID, UTCDateTime, metadata

# One row per email address that ever subscribed or was mailed. ``email`` is stored in
# lower case so that "Ana@x" and "ana@x" are one reader.
notify_addresses = Table(
    "notify_addresses",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("language", String(16), nullable=False, default="en"),
    Column("created_at", UTCDateTime, nullable=False),
    # When the reader first proved the address theirs (a confirmation link followed, or a
    # signed-in account's verified address); never reset. Each subscription still needs
    # its own consent (notify_subscriptions.confirmed_at).
    Column("confirmed_at", UTCDateTime),
    # When the latest unanswered confirmation email was, or is to be, sent: at most one
    # an hour. Confirming from an email clears it (or sets it to now when a confirmation
    # waiting for the hour leaves then): the reader answered.
    Column("confirmation_sent_at", UTCDateTime),
    # A permanent delivery failure stops all further mail to the address.
    Column("bounced_at", UTCDateTime),
    Column("bounce_reason", String(500)),
    UniqueConstraint("email", name="uq_notify_addresses_email"),
)

notify_subscriptions = Table(
    "notify_subscriptions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column(
        "address_id", ID, ForeignKey("notify_addresses.id", ondelete="CASCADE"), nullable=False
    ),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    # The thread's canonical key (events carry the same key), so a subscription may
    # precede the thread's first comment.
    Column("thread_key", String(1000), nullable=False),
    Column("kind", String(16), nullable=False),  # SubscriptionKind
    Column("language", String(16), nullable=False, default="en"),
    # Where the reader reached this server, for links when public_url is not set.
    Column("base_url", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    # Double opt-in, per subscription: NULL until its owner confirms it (a link in an
    # email about it, or a request from their account with the address verified);
    # nothing is sent for it before. Never reset.
    Column("confirmed_at", UTCDateTime),
    # The browser (voter id) and signed-in account that made it: comments of theirs are
    # never announced to it, even when posted without an email.
    Column("voter_id", String(64)),
    Column("account_id", ID),
    UniqueConstraint("address_id", "site_id", "thread_key", "kind",
                     name="uq_notify_subscriptions_address_thread_kind"),
    Index("ix_notify_subscriptions_thread", "site_id", "thread_key"),
    sqlite_autoincrement=True,  # ids in emailed links: never given twice (0119)
)

# "Not me": the reader of an address answered a confirmation email from a site with its
# one-click unsubscribe. Until they subscribe themselves (a confirmation link followed,
# or signed in with the address verified), that site's form asks them nothing more.
notify_refusals = Table(
    "notify_refusals",
    metadata,
    Column("address_id", ID, ForeignKey("notify_addresses.id", ondelete="CASCADE"),
           primary_key=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"),
           primary_key=True),
    Column("refused_at", UTCDateTime, nullable=False),
)

# Comments a "replies" subscription follows besides those carrying its email address
# (the author proved authorship with the comment's edit token).
notify_subscription_comments = Table(
    "notify_subscription_comments",
    metadata,
    Column("subscription_id", ID, ForeignKey("notify_subscriptions.id", ondelete="CASCADE"),
           primary_key=True),
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_notify_subscription_comments_comment", "comment_id"),
)

# A comment is announced to subscribers once, however often it is approved again.
notify_announced = Table(
    "notify_announced",
    metadata,
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Column("announced_at", UTCDateTime, nullable=False),
)

notify_webhooks = Table(
    "notify_webhooks",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("url", String(2000), nullable=False),
    # "whsec_" + base64 of the HMAC key (Standard Webhooks); room for the key of any
    # secret given before that form (200 characters of up to 4 UTF-8 bytes each).
    Column("secret", Text, nullable=False),
    Column("events", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_notify_webhooks_site", "site_id"),
)

PENDING = text("sent_at IS NULL AND failed_at IS NULL")
SENT = text("sent_at IS NOT NULL")
FAILED = text("failed_at IS NOT NULL")

# Every message waiting to go out, written in the transaction of the change that causes
# it. Rows sharing a ``batch_key`` go out together as one message; a worker owns a row
# from ``claimed_at`` until it sets ``sent_at`` or ``failed_at`` (or the claim goes stale).
notify_outbox = Table(
    "notify_outbox",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("channel", String(16), nullable=False),  # Channel
    Column("kind", String(16), nullable=False),  # MessageKind
    Column("batch_key", String(200), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("address_id", ID, ForeignKey("notify_addresses.id", ondelete="CASCADE")),
    # Ending a subscription drops its undelivered rows with it.
    Column("subscription_id", ID, ForeignKey("notify_subscriptions.id", ondelete="CASCADE")),
    Column("webhook_id", ID, ForeignKey("notify_webhooks.id", ondelete="CASCADE")),
    Column("site_id", String(64)),
    Column("thread_id", ID),
    Column("comment_id", ID),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime),
    Column("claimed_by", String(64)),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Index("ix_notify_outbox_pending", "due_at", sqlite_where=PENDING, postgresql_where=PENDING),
    Index("ix_notify_outbox_batch", "batch_key"),
    # The hourly prune (outbox.prune) finds what is past its retention through these,
    # oldest first.
    Index("ix_notify_outbox_sent", "sent_at", sqlite_where=SENT, postgresql_where=SENT),
    Index("ix_notify_outbox_failed", "failed_at", sqlite_where=FAILED,
          postgresql_where=FAILED),
)
