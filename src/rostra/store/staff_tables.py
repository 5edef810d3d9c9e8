"""Tables of the moderators' workspace: staff accounts, their roles per site, sessions,
failed logins (for rate limiting), and what staff do to comments beyond changing their
state: edits kept as revisions, and featured or pinned comments."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from rostra.store.tables import ID, UTCDateTime, metadata

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    # argon2id, in the PHC string format argon2-cffi writes.
    Column("password_hash", String(200), nullable=False),
    # A global admin: every site, creating sites and staff accounts.
    Column("is_admin", Boolean, nullable=False, default=False),
    # Base32 TOTP secret, sealed when secret_key is configured (core/sealing.py: about
    # 100 characters); NULL: no second factor.
    Column("totp_secret", String(255)),
    # A new TOTP secret (sealed as totp_secret) set up on the account page and waiting
    # for a code from it, which only then makes it totp_secret; NULL: none waiting.
    Column("totp_pending", String(255)),
    # The TOTP time step (30-second count since 1970) of the last code taken: a code of
    # that step or an earlier one is refused, so each is taken once. NULL: none yet.
    Column("totp_step", BigInteger),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
)

staff_roles = Table(
    "staff_roles",
    metadata,
    Column("user_id", ID, ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    CheckConstraint("role IN ('owner', 'moderator')", name="role"),
)

# A signed-in browser. The cookie carries a random token; only its SHA-256 is kept.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    # The last queue action, so that "undo" can reverse it (see rostra.services.workspace).
    Column("last_action", JSON),
    # How the session began (password or passkey), the browser's User-Agent (shortened),
    # the hashed address and the last request: what the account page lists.
    Column("method", String(16)),
    Column("device", String(200)),
    Column("ip_hash", String(64)),
    Column("seen_at", UTCDateTime),
    Index("ix_staff_sessions_user", "user_id"),
)

# Failed logins, counted per name and per hashed address over a sliding window.
staff_login_failures = Table(
    "staff_login_failures",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("key", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_staff_login_failures_key", "key", "created_at"),
)

# The text a comment had before a staff member edited it.
comment_revisions = Table(
    "comment_revisions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("edited_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_comment_revisions_comment", "comment_id"),
)

# Comments an editor singled out: "featured" (an editors' pick) or "pinned" (first).
comment_pins = Table(
    "comment_pins",
    metadata,
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("kind IN ('featured', 'pinned')", name="kind"),
    Index("ix_comment_pins_site", "site_id"),
)
