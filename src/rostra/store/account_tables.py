"""Readers signed in through their site (single sign-on): one row per person per site."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint

from rostra.store.tables import ID, UTCDateTime, metadata

reader_accounts = Table(
    "reader_accounts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    # The host site's own id for the person: stable across name and email changes.
    Column("subject", String(255), nullable=False),
    Column("name", String(400), nullable=False),
    Column("email", String(320)),
    Column("website", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    UniqueConstraint("site_id", "subject"),
)
