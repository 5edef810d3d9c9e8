"""Tables of the moderation engine: audit log, bans, reader flags, used proof-of-work
challenges, comment embeddings, per-site learned heads and author reputation."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from rostra.store.tables import ID, UTCDateTime, metadata

# Every moderation decision and staff action: who, what, on which target, and why.
# ``target`` is "<kind>:<id>" (comment:12, ban:3, site:news). The admin UI adds its own
# actions through rostra.services.moderation.record_audit.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64)),
    Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("target", String(200), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_audit_log_site_created", "site_id", "created_at"),
    Index("ix_audit_log_target", "target"),
)

# A ban matches a comment when one of the comment's identity keys equals ``value``.
# Keys are hashes, never raw addresses: "a:<account id>", "e:<email hmac>",
# "v:<voter id>", "i:<ip hash>", "r24:"/"r16:" (IPv4 ranges) and "r48:"/"r32:" (IPv6).
bans = Table(
    "bans",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", String(100), nullable=False),
    # Shadow: the author keeps posting and sees their comments; nobody else does.
    Column("shadow", Boolean, nullable=False, default=False),
    Column("reason", Text),
    # What a moderator may see about who was banned (a name, "range of comment 12").
    Column("label", String(400)),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("lifted_at", UTCDateTime),
    Column("lifted_by", String(200)),
    Index("ix_bans_site_value", "site_id", "value"),
)

# One flag per reader per comment. ``reader`` is "v:<voter id>", "a:<account>" or
# "i:<ip hash>". Resolved flags (a moderator decided) no longer count.
flags = Table(
    "flags",
    metadata,
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Column("reader", String(80), primary_key=True),
    Column("reason", String(16), nullable=False),
    Column("note", String(500)),
    Column("ip_hash", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Index("ix_flags_open", "resolved_at", "comment_id"),
)

# Proof-of-work challenges already spent, kept until they would have expired anyway.
pow_used = Table(
    "pow_used",
    metadata,
    Column("challenge", String(64), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_pow_used_expires", "expires_at"),
)

# The sentence embedding of a comment, kept so a moderator's later decision can teach
# the site's head. float16 bytes: 768 bytes for a 384-dimension encoder.
comment_embeddings = Table(
    "comment_embeddings",
    metadata,
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", String(64), nullable=False),
    Column("encoder", String(32), nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Each site's learned head (the classifier helper's SiteHead, serialised) per encoder.
site_heads = Table(
    "site_heads",
    metadata,
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
    Column("encoder", String(32), primary_key=True),
    Column("state", LargeBinary, nullable=False),
    Column("decisions", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Moderators' decisions per author on a site: the author's reputation.
author_stats = Table(
    "author_stats",
    metadata,
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
    Column("author", String(100), primary_key=True),
    Column("approved", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("spam", Integer, nullable=False, default=0),
    # DSA notices against the author's comments that a moderator upheld (removed them).
    Column("notices", Integer, nullable=False, default=0, server_default="0"),
    Column("updated_at", UTCDateTime, nullable=False),
)
