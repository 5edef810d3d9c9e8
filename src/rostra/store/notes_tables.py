"""Context notes under comments, and readers' ratings of the notes they proposed."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from rostra.store.tables import ID, UTCDateTime, metadata

comment_notes = Table(
    "comment_notes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),  # Markdown as written
    Column("html", Text, nullable=False),  # rendered and sanitised
    Column("sources", JSON, nullable=False),  # http(s) addresses
    # Who wrote it: a staff member (by name) or a signed-in reader (by account; like
    # comments.account_id, no foreign key: an export restores notes without accounts).
    Column("staff_author", String(100)),
    Column("account_id", ID),
    # proposed: shown once readers who usually disagree rate it helpful (core/bridging);
    # published and withdrawn: staff decided, whatever the ratings.
    Column("status", String(16), nullable=False),
    Column("shown", Boolean, nullable=False, default=False),
    Column("helpfulness", Float),  # the bridging score when last fitted
    Column("rating_count", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_by", String(100)),
    Column("decided_at", UTCDateTime),
    CheckConstraint("status IN ('proposed', 'published', 'withdrawn')", name="note_status"),
    Index("ix_comment_notes_comment", "comment_id"),
    Index("ix_comment_notes_site_status", "site_id", "status"),
)

note_ratings = Table(
    "note_ratings",
    metadata,
    Column("note_id", ID, ForeignKey("comment_notes.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ID, primary_key=True),
    Column("helpful", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
