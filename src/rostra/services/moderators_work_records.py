"""The moderators' work in Rostra's JSON Lines format (rostra.services.exporting): EU DSA
notices and statements of reasons, the comments staff featured or pinned, the texts
staff edits replaced, bans, readers' flags and authors' reputations; the queries that
export them (last in a file), and how the author keys of bans and reputations are
written in a file and keyed again by a restore (rostra.services.rostra_format_restore).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Select, Table, select

from rostra.moderation.identity import email_key
from rostra.store.account_tables import reader_accounts
from rostra.store.dsa_tables import dsa_notices, dsa_statements
from rostra.store.moderation_tables import author_stats, bans, flags
from rostra.store.notify_tables import notify_addresses, notify_subscriptions
from rostra.store.staff_tables import comment_pins, comment_revisions
from rostra.store.tables import comments, meta, threads

# An author key made of an email address ("e:<HMAC>") is keyed with a salt of the
# database it was made in; the file names the address instead ("email:<address>"), and a
# restore makes the key again with its own salt (rostra.services.rostra_format_restore).
EMAIL_KEY_PREFIX = "email:"
EMAIL_SALT = "ip_salt"  # the meta row of the salt (rostra.services.container)


@dataclass(frozen=True, slots=True)
class DsaNoticeRecord:
    """A reader's notice that a comment is illegal, and its decision (docs/dsa.md)."""

    TYPE: ClassVar[str] = "dsa_notice"
    TABLE: ClassVar[Table] = dsa_notices
    id: int
    site_id: str
    comment_id: int | None
    ground: str
    ground_label: str
    explanation: str
    notifier_name: str | None
    notifier_email: str | None
    good_faith: bool
    reporter: str | None
    ip_hash: str | None
    created_at: datetime
    deadline_at: datetime
    status: str
    outcome: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    # The notifier's complaint against "no action" (Art. 20; version 8).
    complaint_text: str | None
    complained_at: datetime | None
    complaint_outcome: str | None
    complaint_decided_by: str | None
    complaint_decided_at: datetime | None
    complaint_reason: str | None


@dataclass(frozen=True, slots=True)
class DsaStatementRecord:
    """A statement of reasons for a removal or restriction, with its appeal."""

    TYPE: ClassVar[str] = "dsa_statement"
    TABLE: ClassVar[Table] = dsa_statements
    id: int
    site_id: str
    comment_id: int | None
    state: str
    restriction: str
    source: str
    notice_id: int | None
    ground_kind: str
    ground: str
    facts: str
    automated_detection: bool
    automated_decision: bool
    decided_by: str | None
    created_at: datetime
    lifted_at: datetime | None
    appeal_text: str | None
    appealed_at: datetime | None
    appeal_outcome: str | None
    appeal_decided_by: str | None
    appeal_decided_at: datetime | None
    appeal_reason: str | None


@dataclass(frozen=True, slots=True)
class PinRecord:
    """A comment staff featured (an editors' pick) or pinned (shown first); version 6."""

    TYPE: ClassVar[str] = "pin"
    TABLE: ClassVar[Table] = comment_pins
    comment_id: int
    site_id: str
    kind: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    """The text a comment had before a staff member edited it; version 6."""

    TYPE: ClassVar[str] = "revision"
    TABLE: ClassVar[Table] = comment_revisions
    id: int
    comment_id: int
    text: str
    html: str
    edited_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BanRecord:
    """A ban (or shadow ban) on a site, lifted or not; version 6. ``value`` is the key
    the ban matches, an email key written as ``email:<address>``."""

    TYPE: ClassVar[str] = "ban"
    TABLE: ClassVar[Table] = bans
    id: int
    site_id: str
    kind: str
    value: str
    shadow: bool
    reason: str | None
    label: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    lifted_at: datetime | None
    lifted_by: str | None


@dataclass(frozen=True, slots=True)
class FlagRecord:
    """A reader's flag on a comment, open or resolved (a moderator decided); version 7.
    ``reader`` is the flagging reader's key as stored ("v:", "a:" or "i:")."""

    TYPE: ClassVar[str] = "flag"
    TABLE: ClassVar[Table] = flags
    comment_id: int
    reader: str
    reason: str
    note: str | None
    ip_hash: str | None
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuthorStatRecord:
    """An author's moderation history on a site, their reputation (earned trust, the
    "Regular" badge, first-time holds); version 7. ``author`` is the key it is kept
    under: ``a:<account>``, ``v:<voter>``, or an address written ``email:<address>``
    (an ``e:`` key where the database could not name the address)."""

    TYPE: ClassVar[str] = "author_stat"
    TABLE: ClassVar[Table] = author_stats
    site_id: str
    author: str
    approved: int
    rejected: int
    spam: int
    notices: int
    updated_at: datetime


ModeratorsRecord = (
    DsaNoticeRecord | DsaStatementRecord | PinRecord | RevisionRecord | BanRecord | FlagRecord
    | AuthorStatRecord
)
MODERATORS_RECORDS: tuple[type[ModeratorsRecord], ...] = (
    DsaNoticeRecord, DsaStatementRecord, PinRecord, RevisionRecord, BanRecord, FlagRecord,
    AuthorStatRecord,
)
# The records that keep an author key, as bans match it: a ban's value, a reputation's
# author.
AuthorKeyed = BanRecord | AuthorStatRecord


def with_author_key(record: AuthorKeyed, key: Callable[[str], str]) -> AuthorKeyed:
    """The record with its author key put through ``key``: named by its address in a
    file (``email:<address>``), keyed again with this database's salt by a restore."""
    if isinstance(record, BanRecord):
        return replace(record, value=key(record.value))
    return replace(record, author=key(record.author))


def named_by_address(record: AuthorKeyed, addresses: dict[str, str]) -> AuthorKeyed:
    """The record with an email key the database can name written as its address."""
    return with_author_key(record, lambda key: addresses.get(key, key))


def moderators_work_queries(
    site_id: str | None,
) -> Iterator[tuple[type[ModeratorsRecord], Select[Any]]]:
    """The query of each record type, of one site (or all), in the format's order."""
    q_notices = select(dsa_notices).order_by(dsa_notices.c.id)
    q_statements = select(dsa_statements).order_by(dsa_statements.c.id)
    q_pins = select(comment_pins).order_by(comment_pins.c.comment_id)
    q_revisions = select(comment_revisions).order_by(comment_revisions.c.id)
    q_bans = select(bans).order_by(bans.c.id)
    q_flags = select(flags).order_by(flags.c.comment_id, flags.c.reader)
    q_authors = select(author_stats).order_by(author_stats.c.site_id, author_stats.c.author)
    if site_id is not None:
        site_comments = select(comments.c.id).where(comments.c.thread_id.in_(
            select(threads.c.id).where(threads.c.site_id == site_id)))
        q_notices = q_notices.where(dsa_notices.c.site_id == site_id)
        q_statements = q_statements.where(dsa_statements.c.site_id == site_id)
        q_pins = q_pins.where(comment_pins.c.site_id == site_id)
        q_revisions = q_revisions.where(comment_revisions.c.comment_id.in_(site_comments))
        q_bans = q_bans.where(bans.c.site_id == site_id)
        q_flags = q_flags.where(flags.c.comment_id.in_(site_comments))
        q_authors = q_authors.where(author_stats.c.site_id == site_id)
    yield DsaNoticeRecord, q_notices
    yield DsaStatementRecord, q_statements
    yield PinRecord, q_pins
    yield RevisionRecord, q_revisions
    yield BanRecord, q_bans
    yield FlagRecord, q_flags
    yield AuthorStatRecord, q_authors


def addresses_by_key(conn: Any, site_id: str | None) -> dict[str, str]:
    """``e:<HMAC>`` -> ``email:<address>`` for the addresses the database knows (of
    comments, subscribers and readers' accounts), by the database's own salt. A key whose
    address is nowhere else (a ban on an address that never wrote) stays as it is."""
    salt = conn.scalar(select(meta.c.value).where(meta.c.key == EMAIL_SALT))
    if salt is None:
        return {}
    emails: set[str] = set()
    site_comments = select(comments.c.author_email).where(comments.c.author_email.is_not(None))
    accounts = select(reader_accounts.c.email).where(reader_accounts.c.email.is_not(None))
    subscribers = select(notify_addresses.c.email)
    if site_id is not None:
        site_comments = site_comments.where(comments.c.thread_id.in_(
            select(threads.c.id).where(threads.c.site_id == site_id)))
        accounts = accounts.where(reader_accounts.c.site_id == site_id)
        subscribers = subscribers.where(notify_addresses.c.id.in_(
            select(notify_subscriptions.c.address_id).where(
                notify_subscriptions.c.site_id == site_id)))
    for query in (site_comments.distinct(), accounts.distinct(), subscribers):
        emails.update(str(e).strip().casefold() for e in conn.scalars(query))
    return {email_key(e, str(salt)): EMAIL_KEY_PREFIX + e for e in emails}
