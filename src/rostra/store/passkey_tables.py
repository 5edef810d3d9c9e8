"""Passkeys (WebAuthn credentials) of readers and staff, and the challenges of
ceremonies in progress."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
)

from rostra.store.tables import ID, UTCDateTime, metadata

# One credential: a reader account's (on the site whose domain it was made for) or a
# staff account's (on the admin's domain). Only the public key is ever stored.
passkeys = Table(
    "passkeys",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    # SHA-256 of the credential id, to find it by; the id itself (base64url) for the
    # browser's "already registered" list.
    Column("credential_hash", String(64), nullable=False, unique=True),
    Column("credential_id", String(1400), nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("transports", JSON),
    Column("account_id", ID, ForeignKey("reader_accounts.id", ondelete="CASCADE")),
    Column("staff_user_id", ID, ForeignKey("staff_users.id", ondelete="CASCADE")),
    Column("rp_id", String(253), nullable=False),  # the domain it works on
    Column("name", String(200), nullable=False),  # for its owner's list
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    CheckConstraint("(account_id IS NULL) <> (staff_user_id IS NULL)", name="one_owner"),
    Index("ix_passkeys_account_id", "account_id"),
    Index("ix_passkeys_staff_user_id", "staff_user_id"),
)

# A registration or sign-in begun: the challenge the browser must sign, used once.
webauthn_challenges = Table(
    "webauthn_challenges",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the handle the browser holds
    Column("challenge", LargeBinary, nullable=False),
    Column("purpose", String(120), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_webauthn_challenges_expires_at", "expires_at"),
)
