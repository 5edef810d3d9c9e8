"""Readers' accounts and how they prove who they are: one account per person per site,
its sessions (one row per signed-in browser), and the email sign-in links sent to it."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    false,
    func,
)

from rostra.store import staff_tables  # noqa: F401  (staff_users, for the foreign key)
from rostra.store.tables import ID, UTCDateTime, metadata

reader_accounts = Table(
    "reader_accounts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    # The host site's own id for the person (single sign-on), "provider:sub" (OpenID
    # Connect) or "email:address" (email sign-in): stable across name changes.
    Column("subject", String(255), nullable=False),
    Column("name", String(400), nullable=False),
    Column("email", String(320)),
    Column("website", String(500)),
    # True when Rostra itself saw the reader own the address (an email link they
    # followed, or a provider's email_verified): what lets them claim earlier comments.
    Column("email_verified", Boolean, nullable=False, server_default=false()),
    # The staff user this account is (tied by the site's owner or an administrator): the
    # account's comments carry the "Staff" badge while that user has a role on the site.
    Column("staff_user_id", ID, ForeignKey("staff_users.id", ondelete="SET NULL")),
    # The site's latest single sign-on payload for the account said "staff": true.
    Column("sso_staff", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("site_id", "subject"),
    Index("ix_reader_accounts_staff_user_id", "staff_user_id"),
    # An id is never given twice, even after the newest account was erased: bans,
    # reputation, votes and flags are kept under "a:<id>" (SQLite would reuse a rowid).
    sqlite_autoincrement=True,
)

# Accounts are found by the verified address of a new sign-in (below).
Index("ix_reader_accounts_email_lower", reader_accounts.c.site_id,
      func.lower(reader_accounts.c.email))

# The other ways one account's owner signs in: a provider's "provider:sub" or an email
# link's "email:address" that proved the address the account had already proved (one
# account per person per site). Made on that way's first sign-in; never for an address
# the provider does not say is verified, nor for single sign-on.
reader_account_subjects = Table(
    "reader_account_subjects",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("account_id", ID, ForeignKey("reader_accounts.id", ondelete="CASCADE"),
           nullable=False),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("site_id", "subject"),
    Index("ix_reader_account_subjects_account_id", "account_id"),
)

# A signed-in browser. The widget keeps a random token; only its SHA-256 is stored, so
# that a copy of the database signs no one in. Deleting the row ends the session.
reader_sessions = Table(
    "reader_sessions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("account_id", ID, ForeignKey("reader_accounts.id", ondelete="CASCADE"),
           nullable=False),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    # How the reader signed in: oidc, email or passkey.
    Column("method", String(16), nullable=False),
    # The browser, as its User-Agent names it (shortened), to tell sessions apart.
    Column("device", String(200)),
    Column("ip_hash", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_reader_sessions_account_id", "account_id"),
)

# Email sign-in links: one row per link sent. The link carries a signature over the
# row's id (never stored); following it once sets used_at. Rows also count requests
# for the rate limits, and are deleted a day after they expire.
reader_sign_in_links = Table(
    "reader_sign_in_links",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),  # lower case
    Column("name", String(400)),
    Column("page_url", String(2000), nullable=False),  # where the reader is sent back
    Column("language", String(16)),
    Column("ip_hash", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    # Set when the link is followed: the account signed in, and the SHA-256 of the
    # one-time code the page hands to the widget (cleared when the widget uses it).
    Column("account_id", ID, ForeignKey("reader_accounts.id", ondelete="CASCADE")),
    Column("code_hash", String(64)),
    Index("ix_reader_sign_in_links_email", "email", "created_at"),
    Index("ix_reader_sign_in_links_ip_hash", "ip_hash", "created_at"),
    Index("ix_reader_sign_in_links_code_hash", "code_hash"),
    sqlite_autoincrement=True,  # ids in emailed links: never given twice (0119)
)
