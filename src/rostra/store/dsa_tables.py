"""Tables of EU Digital Services Act notice and action: notices of illegal content
(Art. 16) and statements of reasons with their appeals (Art. 17, Art. 20)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, String, Table, Text

from rostra.store.tables import ID, UTCDateTime, metadata

# A reader's notice that a comment is illegal, on a legal ground of the site's list.
# The notifier's email is kept only to send the receipt and the decision (Art. 16(4),
# 16(5)); it is never shown, not even to moderators. ``reporter`` is the reader key
# ("v:<voter id>", "a:<account>" or "i:<ip hash>") that rate limits count.
dsa_notices = Table(
    "dsa_notices",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="SET NULL")),
    Column("ground", String(64), nullable=False),
    Column("ground_label", String(200), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("notifier_name", String(200)),
    Column("notifier_email", String(320)),
    Column("good_faith", Boolean, nullable=False),
    Column("reporter", String(80)),
    Column("ip_hash", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deadline_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # open | decided
    Column("outcome", String(16)),  # illegal | incompatible | no_action
    Column("decided_by", String(200)),
    Column("decided_at", UTCDateTime),
    Column("decision_reason", Text),
    # The notifier's one complaint against a "no action" decision (Art. 20(1)), decided
    # by a moderator other than ``decided_by`` (migration 0118).
    Column("complaint_text", Text),
    Column("complained_at", UTCDateTime),
    Column("complaint_outcome", String(16)),  # upheld | reversed (the comment removed)
    Column("complaint_decided_by", String(200)),
    Column("complaint_decided_at", UTCDateTime),
    Column("complaint_reason", Text),
    Index("ix_dsa_notices_site_status", "site_id", "status", "deadline_at"),
    Index("ix_dsa_notices_site_created", "site_id", "created_at"),
    Index("ix_dsa_notices_comment", "comment_id"),
    Index("ix_dsa_notices_site_complained", "site_id", "complained_at"),
    sqlite_autoincrement=True,  # ids in emailed links: never given twice (0119)
)

# What the author of a removed or restricted comment is told (Art. 17), and their one
# appeal (Art. 20), decided by a moderator other than the one who decided first.
dsa_statements = Table(
    "dsa_statements",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="SET NULL")),
    Column("state", String(16), nullable=False),  # the comment's state: pending, spam...
    Column("restriction", String(16), nullable=False),  # removal | visibility
    Column("source", String(16), nullable=False),  # notice | flags | automated | moderator
    Column("notice_id", ID),
    Column("ground_kind", String(16), nullable=False),  # illegal | terms
    Column("ground", String(200), nullable=False),
    Column("facts", Text, nullable=False),
    Column("automated_detection", Boolean, nullable=False),
    Column("automated_decision", Boolean, nullable=False),
    Column("decided_by", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("lifted_at", UTCDateTime),  # the restriction ended (approved since)
    Column("appeal_text", Text),
    Column("appealed_at", UTCDateTime),
    Column("appeal_outcome", String(16)),  # upheld | reversed
    Column("appeal_decided_by", String(200)),
    Column("appeal_decided_at", UTCDateTime),
    Column("appeal_reason", Text),
    Index("ix_dsa_statements_site_created", "site_id", "created_at"),
    Index("ix_dsa_statements_comment", "comment_id"),
    Index("ix_dsa_statements_site_appealed", "site_id", "appealed_at"),
    sqlite_autoincrement=True,  # ids in emailed links: never given twice (0119)
)
