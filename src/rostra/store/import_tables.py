"""Tables of imports: runs (to resume), source ids (to stay idempotent), editors' questions."""

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
)

from rostra.store.tables import ID, UTCDateTime, metadata

# One row per `rostra import` run. A run left "running" was interrupted: the next run of
# the same file for the same site takes it over and goes on where it stopped.
import_runs = Table(
    "import_runs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("site_id", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("site_created", Boolean, nullable=False, default=False),
    Column("summary", JSON),
    Index("ix_import_runs_lookup", "site_id", "source", "fingerprint", "status"),
)

# What each source id became. ``created`` tells a thread this run made from one it found
# (only made rows are removed when a run is rolled back); ``target_key`` holds the voter
# of a vote or the key of an alias; ``parent_source_id`` waits to be resolved to a parent.
import_items = Table(
    "import_items",
    metadata,
    Column("site_id", String(64), primary_key=True),
    Column("source", String(16), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("source_id", String(300), primary_key=True),
    Column("run_id", ID, ForeignKey("import_runs.id", ondelete="CASCADE"), nullable=False),
    Column("target_id", ID, nullable=False),
    Column("target_key", String(1000)),
    Column("created", Boolean, nullable=False, default=True),
    Column("parent_source_id", String(300)),
    Index("ix_import_items_run", "run_id", "kind"),
    Index("ix_import_items_target", "kind", "target_id"),
)

# An editor's question on a passage of an article (wpDiscuz "inline feedback" forms).
questions = Table(
    "questions",
    metadata,
    Column("thread_id", ID, ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True),
    Column("question_id", String(64), primary_key=True),
    Column("question", Text, nullable=False),
    Column("anchor", JSON, nullable=False),
    Column("opened", Boolean, nullable=False, default=False),
    Column("position", Integer, nullable=False, default=0),
)
