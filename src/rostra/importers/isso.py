"""Isso's SQLite database: threads, comments with parents, states, likes and dislikes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from rostra.core.markup import render
from rostra.core.models import CommentState
from rostra.importers.common import key_for
from rostra.services.import_records import (
    ImportedComment,
    ImportedSubscription,
    ImportedThread,
    ImportFormatError,
    ImportItem,
    Notice,
    Skipped,
)

# Isso's comment modes: 1 accepted, 2 waiting for moderation, 4 deleted but kept for replies.
MODES = {1: CommentState.APPROVED, 2: CommentState.PENDING, 4: CommentState.DELETED}


def _time(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), UTC)


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute("SELECT * FROM pragma_table_info(?)", (table,))}


def read_isso(path: Path) -> Iterator[ImportItem]:
    """Everything of an Isso database, opened read-only (`rostra import isso` has checked
    that the file exists)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            thread_cols = _columns(conn, "threads")
            comment_cols = _columns(conn, "comments")
        except sqlite3.DatabaseError as exc:
            raise ImportFormatError(f"not an SQLite database: {exc}") from None
        needed = {"tid", "id", "parent", "created", "mode", "text"}
        if not {"id", "uri"} <= thread_cols or not needed <= comment_cols:
            raise ImportFormatError(
                "not an Isso database: tables threads(id, uri) and comments(tid, id, parent, "
                "created, mode, text) are needed"
            )
        read = _Progress()
        try:
            yield from _threads(conn, read)
            yield from _comments(conn, comment_cols, read)
        except sqlite3.DatabaseError as exc:
            # Pages the schema did not need can be damaged (a copy cut short, a disk
            # error): sqlite finds out only when the rows are read.
            raise ImportFormatError(
                f"the Isso database is damaged ({exc}), met {read.where}: check it with "
                "sqlite3's '.recover' or take an intact copy"
            ) from None
        if "voters" in comment_cols:
            yield Notice(
                "Isso keeps only a filter of who voted, not the voters: likes and dislikes "
                "are imported as counts"
            )
    finally:
        conn.close()


class _Progress:
    """The last row read, for the message about a damaged database (set per row: kept
    cheap, formatted only for the message)."""

    table = ""
    row_id: object = None

    @property
    def where(self) -> str:
        return f"after {self.table} {self.row_id}" if self.table else "before its first row"


def _threads(conn: sqlite3.Connection, read: _Progress) -> Iterator[ImportItem]:
    rows = conn.execute(
        "SELECT t.id, t.uri, t.title, MIN(c.created) FROM threads t "
        "LEFT JOIN comments c ON c.tid = t.id GROUP BY t.id, t.uri, t.title ORDER BY t.id"
    )
    for tid, uri, title, first in rows:
        read.table, read.row_id = "thread", tid
        key = key_for(uri)
        if key is None:
            yield Skipped("thread with an empty uri" if not (uri or "").strip()
                          else "thread whose uri names no page", str(tid))
            continue
        yield ImportedThread(
            source_id=str(tid), key=key, url=None, title=(title or None),
            created_at=_time(first),
        )


def _comments(
    conn: sqlite3.Connection, cols: set[str], read: _Progress
) -> Iterator[ImportItem]:
    def col(name: str, default: str = "NULL") -> str:
        return name if name in cols else f"{default} AS {name}"

    # Column names are ours (checked against pragma_table_info), never from the file.
    query = (
        "SELECT tid, id, parent, created, "
        + ", ".join([col("modified"), "mode", col("remote_addr"), "text", col("author"),
                     col("email"), col("website"), col("likes", "0"), col("dislikes", "0"),
                     col("notification", "0")])
        + " FROM comments ORDER BY id"
    )
    for (tid, cid, parent, created, modified, mode, ip, text, author, email, website, likes,
         dislikes, notification) in conn.execute(query):
        read.table, read.row_id = "comment", cid
        state = MODES.get(int(mode or 0))
        if state is None:
            yield Skipped(f"comment in unknown Isso mode {mode}", str(cid), kind="comment")
            continue
        body = text or ""
        yield ImportedComment(
            source_id=str(cid),
            thread_source_id=str(tid),
            parent_source_id=str(parent) if parent is not None else None,
            state=state,
            text=body,
            html=render(body) if body else "",
            created_at=_time(created) or datetime.now(UTC),
            edited_at=_time(modified),
            author_name=author or None,
            author_email=email or None,
            author_website=website or None,
            ip=ip or None,
            upvotes=max(0, int(likes or 0)),
            downvotes=max(0, int(dislikes or 0)),
        )
        if notification and email:
            yield ImportedSubscription(
                thread_source_id=str(tid), email=email, kind="comment",
                comment_source_id=str(cid), confirmed=True, created_at=_time(created),
            )
