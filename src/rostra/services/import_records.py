"""What importers yield and what an import reports: source-neutral records, the
summary, and the errors that stop an import. The engine in importing.py writes them."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from rostra.core.models import Anchor, CommentState


class ImportSource(StrEnum):
    WORDPRESS = "wordpress"
    DISQUS = "disqus"
    ISSO = "isso"
    REMARK42 = "remark42"
    ROSTRA = "rostra"


class ImportFormatError(Exception):
    """The input cannot be read; the message names the place (line, column, element)."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        element: str | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.element = element
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        if self.element:
            where.append(f"element <{self.element}>")
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True, slots=True)
class ImportedQuestion:
    """An editor's question on a passage of the article (wpDiscuz inline feedback)."""

    question_id: str
    question: str
    anchor: Anchor
    opened: bool = False


@dataclass(frozen=True, slots=True)
class ImportedThread:
    """A page; ``key`` is already a thread key, ``aliases`` are other keys leading to it."""

    source_id: str
    key: str
    url: str | None = None
    title: str | None = None
    created_at: datetime | None = None
    closed: bool = False
    aliases: tuple[str, ...] = ()
    questions: tuple[ImportedQuestion, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportedComment:
    """A comment; ``text`` is the source as written, ``html`` its sanitised rendering."""

    source_id: str
    thread_source_id: str
    parent_source_id: str | None
    state: CommentState
    text: str
    html: str
    created_at: datetime
    author_name: str | None = None
    author_email: str | None = None
    author_website: str | None = None
    ip: str | None = None
    edited_at: datetime | None = None
    upvotes: int = 0
    downvotes: int = 0
    anchor: Anchor | None = None


@dataclass(frozen=True, slots=True)
class ImportedVote:
    """One reader's vote; ``voter`` is namespaced by source ("x:wp:12") so it never
    collides with Rostra's own "a:" and "v:" voters."""

    comment_source_id: str
    voter: str
    value: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ImportedSubscription:
    """A "Notify of" subscription. ``kind`` "thread" (every new comment), "replies" (replies
    to the subscriber's comments in the thread) or "comment" (replies to one comment: a
    "replies" subscription that follows ``comment_source_id``). ``confirmed``: the source
    system had the address confirmed (double opt-in)."""

    thread_source_id: str
    email: str
    kind: str
    comment_source_id: str | None
    confirmed: bool
    created_at: datetime | None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something in the input that is deliberately not imported, and why."""

    reason: str
    source_id: str = ""
    kind: str = ""  # "comment" for a comment: a reply to it is told apart from an orphan


@dataclass(frozen=True, slots=True)
class Notice:
    """A remark for the summary (e.g. what a format cannot carry)."""

    message: str


ImportItem = (
    ImportedThread | ImportedComment | ImportedVote | ImportedSubscription | Skipped | Notice
)


class RunStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"


class ImportConflict(Exception):
    """The data cannot go in beside what the database holds (e.g. a Rostra export whose
    ids are taken by other rows)."""


@dataclass(slots=True)
class ImportSummary:
    """What an import did, for the operator."""

    source: ImportSource
    site_id: str | None
    run_id: int = 0
    resumed: bool = False
    items: int = 0
    sites_created: int = 0
    threads_created: int = 0
    threads_matched: int = 0
    aliases_created: int = 0
    questions_created: int = 0
    comments_created: int = 0
    votes_created: int = 0
    addresses_created: int = 0
    subscriptions_created: int = 0
    notes_created: int = 0
    accounts_created: int = 0
    pins_created: int = 0
    bans_created: int = 0
    flags_created: int = 0
    authors_created: int = 0  # authors' reputations
    already_imported: int = 0
    parents_missing: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    notices: list[str] = field(default_factory=list)

    def put_back(self, earlier: ImportSummary) -> None:
        """Say again what ``earlier`` (a copy taken before a transaction that failed and
        runs again) said: the failed try's counts went with its rows."""
        for f in fields(self):
            setattr(self, f.name, copy.deepcopy(getattr(earlier, f.name)))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["source"] = self.source.value
        data["skipped"] = dict(sorted(self.skipped.items()))
        return data
