"""Rostra's own JSON Lines format: a lossless export of sites, threads, comments, votes
and "Notify of" subscriptions.

One JSON object per line. The first line is the header ``{"format": "rostra",
"type": "header", "version": 7}``; then sites, readers' accounts, threads, aliases, questions, comments
(by id: a parent before its replies, unless an import from another system gave a
reply the lower id), votes, subscribers' addresses, subscriptions,
the comments "replies" subscriptions follow, context notes and their ratings, what
imports from other systems made of their items, and EU DSA notices and statements of
reasons (with their appeals), the comments staff featured or pinned, the texts staff
edits replaced, bans, readers' flags and authors' reputations (these last, the
moderators' work, in rostra.services.moderators_work_records). Every record has a
``type`` and one field per column of its table. docs/import-export.md describes each
field.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, ClassVar

from sqlalchemy import Select, Table, select

from rostra.core.errors import InvalidInput
from rostra.core.site_settings import SiteSettings
from rostra.services.moderators_work_records import (
    MODERATORS_RECORDS,
    AuthorStatRecord,
    BanRecord,
    ModeratorsRecord,
    addresses_by_key,
    moderators_work_queries,
    named_by_address,
)
from rostra.store.account_tables import reader_accounts
from rostra.store.db import Database
from rostra.store.import_tables import import_items, questions
from rostra.store.notes_tables import comment_notes, note_ratings
from rostra.store.notify_tables import (
    notify_addresses,
    notify_refusals,
    notify_subscription_comments,
    notify_subscriptions,
)
from rostra.store.tables import comments, sites, thread_aliases, threads, votes

FORMAT = "rostra"
# 2 added import_item records, 3 dsa_notice and dsa_statement, 4 reader_account, 5 a
# subscription's confirmed_at, voter_id and account_id, 6 pin, revision and ban, 7 flag
# and author_stat, 8 notify_refusal and a dsa_notice's complaint; older versions are read. A reader stops at the header of a version it does not read
# (a record type it does not know stops it only at that line, as a damaged file would).
VERSION = 8
READABLE_VERSIONS = frozenset({1, 2, 3, 4, 5, 6, 7, 8})
# A subscription of a file before version 5 has no confirmation of its own: it was
# confirmed with its address, and is restored so (services.rostra_format_restore).
FROM_ADDRESS = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SiteRecord:
    TYPE: ClassVar[str] = "site"
    TABLE: ClassVar[Table] = sites
    id: str
    name: str
    origins: list[str]
    settings: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReaderAccountRecord:
    """A reader's account on a site (single sign-on, OpenID Connect or email sign-in):
    comments, context notes and ratings name their reader by its id. Sessions, passkeys
    and the tie to a staff user stay with the server: readers sign in again, and the
    site's owner ties staff accounts again (``rostra user reader``)."""

    TYPE: ClassVar[str] = "reader_account"
    TABLE: ClassVar[Table] = reader_accounts
    id: int
    site_id: str
    subject: str
    name: str
    email: str | None
    website: str | None
    email_verified: bool
    sso_staff: bool
    created_at: datetime
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    TYPE: ClassVar[str] = "thread"
    TABLE: ClassVar[Table] = threads
    id: int
    site_id: str
    key: str
    url: str | None
    title: str | None
    created_at: datetime
    updated_at: datetime
    comment_count: int
    top_level_count: int
    closed: bool


@dataclass(frozen=True, slots=True)
class AliasRecord:
    TYPE: ClassVar[str] = "alias"
    TABLE: ClassVar[Table] = thread_aliases
    site_id: str
    key: str
    thread_id: int


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    TYPE: ClassVar[str] = "question"
    TABLE: ClassVar[Table] = questions
    thread_id: int
    question_id: str
    question: str
    anchor: dict[str, Any]
    opened: bool
    position: int


@dataclass(frozen=True, slots=True)
class CommentRecord:
    TYPE: ClassVar[str] = "comment"
    TABLE: ClassVar[Table] = comments
    id: int
    thread_id: int
    parent_id: int | None
    root_id: int | None
    depth: int
    state: str
    author_name: str | None
    author_email: str | None
    author_website: str | None
    account_id: int | None
    voter_id: str | None
    ip_hash: str | None
    text: str
    html: str
    created_at: datetime
    edited_at: datetime | None
    voted_at: datetime | None
    score: int
    upvotes: int
    downvotes: int
    reply_count: int
    anchor: dict[str, Any] | None
    language: str | None
    moderation: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class VoteRecord:
    TYPE: ClassVar[str] = "vote"
    TABLE: ClassVar[Table] = votes
    comment_id: int
    voter: str
    value: int
    ip_hash: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AddressRecord:
    """A subscriber's address with its double opt-in and bounce state."""

    TYPE: ClassVar[str] = "address"
    TABLE: ClassVar[Table] = notify_addresses
    id: int
    email: str
    language: str
    created_at: datetime
    confirmed_at: datetime | None
    confirmation_sent_at: datetime | None
    bounced_at: datetime | None
    bounce_reason: str | None


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    TYPE: ClassVar[str] = "subscription"
    TABLE: ClassVar[Table] = notify_subscriptions
    id: int
    address_id: int
    site_id: str
    thread_key: str
    kind: str
    language: str
    base_url: str | None
    created_at: datetime
    confirmed_at: datetime | None  # version 5; before it, FROM_ADDRESS
    voter_id: str | None  # version 5
    account_id: int | None  # version 5


@dataclass(frozen=True, slots=True)
class SubscriptionCommentRecord:
    """A comment a "replies" subscription follows besides those carrying its address."""

    TYPE: ClassVar[str] = "subscription_comment"
    TABLE: ClassVar[Table] = notify_subscription_comments
    subscription_id: int
    comment_id: int


@dataclass(frozen=True, slots=True)
class RefusalRecord:
    """A reader's "not me" to a site's confirmation emails: that site's form asks the
    address nothing more until its reader subscribes themselves (version 8)."""

    TYPE: ClassVar[str] = "notify_refusal"
    TABLE: ClassVar[Table] = notify_refusals
    address_id: int
    site_id: str
    refused_at: datetime


@dataclass(frozen=True, slots=True)
class NoteRecord:
    """A context note under a comment (docs/context-notes.md)."""

    TYPE: ClassVar[str] = "note"
    TABLE: ClassVar[Table] = comment_notes
    id: int
    comment_id: int
    site_id: str
    text: str
    html: str
    sources: list[str]
    staff_author: str | None
    account_id: int | None
    status: str
    shown: bool
    helpfulness: float | None
    rating_count: int
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class NoteRatingRecord:
    TYPE: ClassVar[str] = "note_rating"
    TABLE: ClassVar[Table] = note_ratings
    note_id: int
    account_id: int
    helpful: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ImportItemRecord:
    """What an import from another system (WordPress, Disqus, …) made of one of its items:
    kept so that importing a newer export of that system after a restore adds only what
    is new. ``target_id`` is the thread, comment, … it became (ids are kept)."""

    TYPE: ClassVar[str] = "import_item"
    TABLE: ClassVar[Table] = import_items
    site_id: str
    source: str
    kind: str
    source_id: str
    target_id: int
    target_key: str | None
    parent_source_id: str | None


RostraRecord = (
    SiteRecord | ReaderAccountRecord | ThreadRecord | AliasRecord | QuestionRecord | CommentRecord
    | VoteRecord | AddressRecord | SubscriptionRecord | SubscriptionCommentRecord | RefusalRecord
    | NoteRecord | NoteRatingRecord | ImportItemRecord | ModeratorsRecord
)
RECORD_TYPES: dict[str, type[RostraRecord]] = {
    cls.TYPE: cls
    for cls in (SiteRecord, ReaderAccountRecord, ThreadRecord, AliasRecord, QuestionRecord,
                CommentRecord, VoteRecord, AddressRecord, SubscriptionRecord,
                SubscriptionCommentRecord, RefusalRecord, NoteRecord, NoteRatingRecord,
                ImportItemRecord,
                *MODERATORS_RECORDS)
}
# Fields a later version added, and what a record of an older file takes for each.
ADDED_FIELDS: dict[tuple[str, str], Any] = {
    ("subscription", "confirmed_at"): FROM_ADDRESS,
    ("subscription", "voter_id"): None,
    ("subscription", "account_id"): None,
    **{("dsa_notice", name): None for name in (
        "complaint_text", "complained_at", "complaint_outcome", "complaint_decided_by",
        "complaint_decided_at", "complaint_reason")},
}
DATETIME_FIELDS = frozenset({
    "created_at", "updated_at", "edited_at", "voted_at", "confirmed_at",
    "confirmation_sent_at", "bounced_at", "deadline_at", "decided_at", "lifted_at",
    "appealed_at", "appeal_decided_at", "seen_at", "expires_at", "resolved_at", "refused_at",
    "complained_at", "complaint_decided_at",
})


def format_datetime(value: datetime) -> str:
    """UTC, ISO 8601 with a Z, microseconds only when there are some."""
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat()
    return text + "Z"


def parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"datetime without time zone: {value!r}")
    return parsed.astimezone(UTC)


def record_to_line(record: RostraRecord) -> str:
    """One line of the format (without the newline); the same record gives the same bytes."""
    obj: dict[str, Any] = {"type": record.TYPE}
    for f in fields(record):
        value = getattr(record, f.name)
        obj[f.name] = format_datetime(value) if isinstance(value, datetime) else value
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def record_from_object(obj: dict[str, Any]) -> RostraRecord:
    """The record a parsed line holds; raises ValueError naming what is wrong."""
    kind = obj.get("type")
    cls = RECORD_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown record type {kind!r}")
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in obj and (cls.TYPE, f.name) in ADDED_FIELDS:
            values[f.name] = ADDED_FIELDS[cls.TYPE, f.name]
            continue
        if f.name not in obj:
            raise ValueError(f"{kind}: missing field {f.name!r}")
        value = obj[f.name]
        if f.name in DATETIME_FIELDS and value is not None:
            if not isinstance(value, str):
                raise ValueError(f"{kind}.{f.name}: not a datetime string")
            value = parse_datetime(value)
        values[f.name] = value
    if cls is SiteRecord:
        _check_site_settings(values["settings"])
    return cls(**values)


def _check_site_settings(settings: Any) -> None:
    """A site's settings as a server takes them (the admin's and the API's checks): a file
    must not leave a site that runs on defaults because its own settings are refused."""
    if not isinstance(settings, dict):
        raise ValueError("settings: not an object")
    try:
        SiteSettings.parse(settings)
    except InvalidInput as exc:
        raise ValueError(f"settings: {exc.detail}") from None


# The last line of a file of version 6 or later: how many records came before it, so a
# file cut short at the end of a line is told from a whole one.
END = "end"
ENDED_FROM_VERSION = 6


def end_line(count: int) -> str:
    return json.dumps({"records": count, "type": END}, sort_keys=True, separators=(",", ":"))


def header_line() -> str:
    return json.dumps(
        {"format": FORMAT, "type": "header", "version": VERSION}, sort_keys=True,
        separators=(",", ":"),
    )


def _queries(site_id: str | None) -> Iterator[tuple[type[RostraRecord], Select[Any]]]:
    site_threads = select(threads.c.id).where(threads.c.site_id == site_id)
    q_sites = select(sites).order_by(sites.c.id)
    q_accounts = select(reader_accounts).order_by(reader_accounts.c.id)
    q_threads = select(threads).order_by(threads.c.id)
    q_aliases = select(thread_aliases).order_by(thread_aliases.c.site_id, thread_aliases.c.key)
    q_questions = select(questions).order_by(questions.c.thread_id, questions.c.question_id)
    q_comments = select(comments).order_by(comments.c.id)
    q_votes = select(votes).order_by(votes.c.comment_id, votes.c.voter)
    q_addresses = select(notify_addresses).order_by(notify_addresses.c.id)
    q_subscriptions = select(notify_subscriptions).order_by(notify_subscriptions.c.id)
    q_followed = select(notify_subscription_comments).order_by(
        notify_subscription_comments.c.subscription_id, notify_subscription_comments.c.comment_id
    )
    q_refusals = select(notify_refusals).order_by(notify_refusals.c.address_id,
                                                  notify_refusals.c.site_id)
    q_notes = select(comment_notes).order_by(comment_notes.c.id)
    q_ratings = select(note_ratings).order_by(note_ratings.c.note_id, note_ratings.c.account_id)
    # Imports from other systems; the Rostra format's own bookkeeping is not needed (ids
    # are kept, so a restore finds what it restored by id).
    q_books = (select(import_items).where(import_items.c.source != "rostra")
               .order_by(import_items.c.site_id, import_items.c.source, import_items.c.kind,
                         import_items.c.source_id))
    if site_id is not None:
        q_books = q_books.where(import_items.c.site_id == site_id)
        q_sites = q_sites.where(sites.c.id == site_id)
        q_accounts = q_accounts.where(reader_accounts.c.site_id == site_id)
        q_threads = q_threads.where(threads.c.site_id == site_id)
        q_aliases = q_aliases.where(thread_aliases.c.site_id == site_id)
        q_questions = q_questions.where(questions.c.thread_id.in_(site_threads))
        q_comments = q_comments.where(comments.c.thread_id.in_(site_threads))
        q_votes = q_votes.where(
            votes.c.comment_id.in_(
                select(comments.c.id).where(comments.c.thread_id.in_(site_threads))
            )
        )
        site_subscriptions = select(notify_subscriptions.c.id).where(
            notify_subscriptions.c.site_id == site_id
        )
        # Addresses are shared by every site: a site's export holds its subscribers'
        # and those that said "not me" to it.
        q_addresses = q_addresses.where(notify_addresses.c.id.in_(
            select(notify_subscriptions.c.address_id).where(
                notify_subscriptions.c.site_id == site_id)
            .union(select(notify_refusals.c.address_id).where(
                notify_refusals.c.site_id == site_id))
        ))
        q_refusals = q_refusals.where(notify_refusals.c.site_id == site_id)
        q_subscriptions = q_subscriptions.where(notify_subscriptions.c.site_id == site_id)
        q_followed = q_followed.where(
            notify_subscription_comments.c.subscription_id.in_(site_subscriptions)
        )
        q_notes = q_notes.where(comment_notes.c.site_id == site_id)
        q_ratings = q_ratings.where(note_ratings.c.note_id.in_(
            select(comment_notes.c.id).where(comment_notes.c.site_id == site_id)))
    yield SiteRecord, q_sites
    yield ReaderAccountRecord, q_accounts
    yield ThreadRecord, q_threads
    yield AliasRecord, q_aliases
    yield QuestionRecord, q_questions
    yield CommentRecord, q_comments
    yield VoteRecord, q_votes
    yield AddressRecord, q_addresses
    yield SubscriptionRecord, q_subscriptions
    yield SubscriptionCommentRecord, q_followed
    yield RefusalRecord, q_refusals
    yield NoteRecord, q_notes
    yield NoteRatingRecord, q_ratings
    yield ImportItemRecord, q_books
    yield from moderators_work_queries(site_id)


def iter_records(db: Database, site_id: str | None = None) -> Iterator[RostraRecord]:
    """Every record of one site (or all), streamed in the order the format prescribes,
    all as of one moment."""
    with db.read(snapshot=True) as conn:
        addresses: dict[str, str] | None = None
        for cls, query in _queries(site_id):
            names = [f.name for f in fields(cls)]
            if cls in (BanRecord, AuthorStatRecord) and addresses is None:
                addresses = addresses_by_key(conn, site_id)
            result = conn.execution_options(yield_per=2000).execute(query)
            for row in result:
                mapping = row._mapping
                record = cls(**{name: _plain(mapping[name]) for name in names})
                if isinstance(record, (BanRecord, AuthorStatRecord)) and addresses:
                    record = named_by_address(record, addresses)
                yield record


def _plain(value: Any) -> Any:
    # SQLite hands back JSON columns and tuples as lists already; keep tuples out of records.
    return list(value) if isinstance(value, tuple) else value


def owner_only(path: str, flags: int) -> int:
    """``open``'s opener for a file of personal data (an export holds commenters' email
    addresses, as the database does): readable and writable by its owner only, whatever
    the umask, an existing file too (not a device or a pipe: /dev/stdout keeps its mode)."""
    fd = os.open(path, flags, 0o600)
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    return fd


def open_output(path: Path) -> IO[str] | _ClosingText:
    """A text file for writing (mode 0600), gzipped when the name ends in .gz (with a fixed
    mtime so the same data gives the same bytes)."""
    if path.suffix == ".gz":
        raw = open(path, "wb", opener=owner_only)  # noqa: SIM115 - closed with the gzip below
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        text = _ClosingText(gz, raw)
        return text
    return open(path, "w", encoding="utf-8", newline="\n", opener=owner_only)


class _ClosingText:
    """A text writer over a gzip stream that also closes the file under it."""

    def __init__(self, gz: gzip.GzipFile, raw: IO[bytes]) -> None:
        self._text = io.TextIOWrapper(gz, encoding="utf-8", newline="\n")
        self._raw = raw

    def write(self, data: str) -> int:
        return self._text.write(data)

    def close(self) -> None:
        self._text.close()
        self._raw.close()

    def __enter__(self) -> _ClosingText:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def export(
    db: Database,
    out: IO[str] | _ClosingText,
    site_id: str | None = None,
    on_record: Callable[[int], None] | None = None,
) -> int:
    """Write the header, every record and the end line to ``out``; returns the number of
    records."""
    out.write(header_line() + "\n")
    count = 0
    for record in iter_records(db, site_id):
        out.write(record_to_line(record) + "\n")
        count += 1
        if on_record is not None and count % 1000 == 0:
            on_record(count)
    out.write(end_line(count) + "\n")
    if on_record is not None:
        on_record(count)
    return count
