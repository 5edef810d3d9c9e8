"""Table definitions. Alembic migrations in migrations/ create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    func,
    literal_column,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which has no time zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite rowid alias needs INTEGER

meta = Table(
    "meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

sites = Table(
    "sites",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("origins", JSON, nullable=False, default=list),
    Column("settings", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
)

threads = Table(
    "threads",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(1000), nullable=False),
    Column("url", String(2000)),
    Column("title", String(500)),
    Column("created_at", UTCDateTime, nullable=False),
    # Changed on every write that touches the thread: readers' caches compare it.
    Column("updated_at", UTCDateTime, nullable=False),
    Column("comment_count", Integer, nullable=False, default=0),
    Column("top_level_count", Integer, nullable=False, default=0),
    Column("closed", Boolean, nullable=False, default=False),
    UniqueConstraint("site_id", "key", name="uq_threads_site_key"),
    Index("ix_threads_updated_at", "updated_at"),
)

# Other keys that lead to a thread: an imported post id, the path before a site moved.
thread_aliases = Table(
    "thread_aliases",
    metadata,
    Column("site_id", String(64), ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(1000), primary_key=True),
    Column("thread_id", ID, ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
)

comments = Table(
    "comments",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("thread_id", ID, ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", ID, ForeignKey("comments.id", ondelete="CASCADE")),
    # The top-level ancestor (itself for a top-level comment): a page of roots and all
    # their replies come back in two indexed queries.
    Column("root_id", ID),
    Column("depth", SmallInteger, nullable=False, default=0),
    Column("state", String(16), nullable=False),
    Column("author_name", String(400)),
    Column("author_email", String(320)),
    Column("author_website", String(500)),
    Column("account_id", ID),
    Column("voter_id", String(64)),
    Column("ip_hash", String(64)),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime),
    Column("voted_at", UTCDateTime),
    Column("score", Integer, nullable=False, default=0),
    Column("upvotes", Integer, nullable=False, default=0),
    Column("downvotes", Integer, nullable=False, default=0),
    Column("reply_count", Integer, nullable=False, default=0),
    Column("anchor", JSON),
    Column("language", String(16)),
    Column("moderation", JSON),
    CheckConstraint(
        "state IN ('approved', 'pending', 'spam', 'rejected', 'deleted')", name="state"
    ),
    Index("ix_comments_thread_top_created", "thread_id", "parent_id", "created_at", "id"),
    Index("ix_comments_root", "root_id", "created_at", "id"),
    Index("ix_comments_parent", "parent_id"),
    Index("ix_comments_state_created", "state", "created_at"),
)
# A reader's claim, export and erasure find their comments by address, compared as
# lower case: without this every such request read the whole comments table.
Index("ix_comments_author_email_lower", func.lower(comments.c.author_email))
# Most Voted ranks a comment by the score readers see: a tombstone (not approved, kept
# for its replies) shows no votes and ranks as a comment without any; its stored votes
# stay for a comment approved again. Literals, not parameters: SQLite and PostgreSQL
# use an index on an expression only for a query that names the same expression.
RANKED_SCORE = case(
    (comments.c.state == literal_column("'approved'"), comments.c.score),
    else_=literal_column("0"),
)
Index("ix_comments_thread_top_rank", comments.c.thread_id, comments.c.parent_id,
      RANKED_SCORE, comments.c.created_at, comments.c.id)

votes = Table(
    "votes",
    metadata,
    Column("comment_id", ID, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    # "a:<account id>" for a signed-in reader, "v:<voter id>" for an anonymous one.
    Column("voter", String(80), primary_key=True),
    Column("value", SmallInteger, nullable=False),
    Column("ip_hash", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("value IN (-1, 1)", name="value"),
)

# SQLite's change bus (store/change_bus.py, SqliteBus): what each commit changed, as the
# bus's messages, read a moment later by the other processes on the database and pruned
# after minutes. AUTOINCREMENT: an id is never given twice, even after the newest rows
# were pruned, so a reader's "after id N" never misses a row.
change_log = Table(
    "change_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    sqlite_autoincrement=True,
)
