"""A person's data on request: everything stored under an email address, or under one
reader account (a single sign-on or provider account may have no address), and erasing
it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, and_, delete, false, func, or_, select, update

from rostra.core.errors import NotFound
from rostra.core.models import ERASED, CommentState
from rostra.notify.model import MessageKind
from rostra.services.comments import CommentEvent, CommentService
from rostra.services.moderation import record_audit
from rostra.services.serialise import iso
from rostra.store import changes, queries
from rostra.store import reader_identities as identities
from rostra.store.account_tables import (
    reader_account_subjects,
    reader_accounts,
    reader_sessions,
    reader_sign_in_links,
)
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import attempts
from rostra.store.dsa_tables import dsa_notices
from rostra.store.moderation_tables import audit_log, bans, comment_embeddings, flags
from rostra.store.notes_tables import comment_notes, note_ratings
from rostra.store.notify_tables import notify_addresses, notify_outbox, notify_subscriptions
from rostra.store.passkey_tables import passkeys
from rostra.store.staff_tables import comment_revisions
from rostra.store.tables import comments, threads, votes

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Person:
    """Whose data: everything under an email address (lower case) on every site and the
    accounts with that address, or one account alone (``address`` None)."""

    address: str | None
    account_ids: list[int]


class PersonalData:
    """Export and erasure of what Rostra keeps about one email address (all sites), or
    about one reader account."""

    def __init__(self, comments_service: CommentService) -> None:
        self.comments = comments_service
        self.db = comments_service.db

    def account_of(self, site_id: str, subject: str) -> int:
        """The id of the site's account ``subject`` signs in to (``email:<address>``,
        ``<provider>:<sub>``, a single sign-on id); NotFound when there is none."""
        with self.db.read() as conn:
            found = identities.account_id_of(conn, site_id, subject.strip())
        if found is None:
            raise NotFound(f"no reader account {subject[:255]!r} on site {site_id[:64]!r}")
        return found

    def export(self, email: str) -> dict[str, Any]:
        """Every comment written with ``email``, every subscription of it, and the accounts
        sites signed the person in with under it."""
        address = email.strip().lower()
        with self.db.read(snapshot=True) as conn:
            return self._export(conn, _by_address(conn, address))

    def export_account(self, account_id: int) -> dict[str, Any]:
        """What one reader account holds: its comments (claimed ones too), sessions,
        passkeys, votes, reports, notes, the subscriptions made signed in, its sign-in
        links and the notices filed signed in."""
        with self.db.read(snapshot=True) as conn:
            return self._export(conn, Person(None, [account_id]))

    def _export(self, conn: Connection, person: Person) -> dict[str, Any]:
        address, account_ids = person.address, person.account_ids
        rows = conn.execute(
            select(comments, threads.c.site_id, threads.c.key, threads.c.url)
            .join(threads, threads.c.id == comments.c.thread_id)
            # Under the address, or written by the account alone.
            .where(_is(comments.c.author_email, address) if address is not None
                   else comments.c.account_id.in_(account_ids))
            .order_by(comments.c.created_at, comments.c.id)
        ).all()
        accounts = conn.execute(
            select(reader_accounts).where(reader_accounts.c.id.in_(account_ids))
            .order_by(reader_accounts.c.id)
        ).all()
        sessions = conn.execute(
            select(reader_sessions)
            .where(reader_sessions.c.account_id.in_([a.id for a in accounts]))
            .order_by(reader_sessions.c.id)
        ).all()
        tied = conn.execute(
            select(reader_account_subjects.c.account_id, reader_account_subjects.c.subject)
            .where(reader_account_subjects.c.account_id.in_(account_ids))
            .order_by(reader_account_subjects.c.id)
        ).all()
        keys = conn.execute(
            select(passkeys.c.account_id, passkeys.c.name, passkeys.c.created_at,
                   passkeys.c.last_used_at)
            .where(passkeys.c.account_id.in_([a.id for a in accounts]))
            .order_by(passkeys.c.id)
        ).all()
        notes = conn.execute(
            select(comment_notes).where(comment_notes.c.account_id.in_(account_ids))
            .order_by(comment_notes.c.id)
        ).all()
        ratings = conn.execute(
            select(note_ratings).where(note_ratings.c.account_id.in_(account_ids))
            .order_by(note_ratings.c.note_id)
        ).all()
        links = conn.execute(
            select(reader_sign_in_links).where(or_(
                _is(reader_sign_in_links.c.email, address),
                reader_sign_in_links.c.account_id.in_(account_ids)))
            .order_by(reader_sign_in_links.c.id)
        ).all()
        readers = _readers_of(rows, account_ids)
        notices = _notices_of(conn, address, readers)
        reports = conn.execute(
            select(flags).where(flags.c.reader.in_(readers))
            .order_by(flags.c.created_at, flags.c.comment_id)).all() if readers else []
        cast = conn.execute(
            select(votes).where(votes.c.voter.in_(readers))
            .order_by(votes.c.created_at, votes.c.comment_id)).all() if readers else []
        subscriptions = conn.execute(
            select(notify_subscriptions)
            .join(notify_addresses,
                  notify_addresses.c.id == notify_subscriptions.c.address_id)
            .where(_is(notify_addresses.c.email, address) if address is not None
                   else notify_subscriptions.c.account_id.in_(account_ids))
            .order_by(notify_subscriptions.c.id)
        ).all()
        return {
            **({"email": address} if address is not None else {}),
            "exported_at": iso(datetime.now(UTC)),
            "comments": [
                {"id": r.id, "site": r.site_id, "thread": r.key, "url": r.url,
                 "parent_id": r.parent_id, "state": r.state, "name": r.author_name,
                 "website": r.author_website, "text": r.text,
                 "created_at": iso(r.created_at), "edited_at": iso(r.edited_at)}
                for r in rows
            ],
            "subscriptions": [
                {"site": s.site_id, "thread": s.thread_key, "kind": s.kind,
                 "language": s.language, "confirmed_at": iso(s.confirmed_at)}
                for s in subscriptions
            ],
            "accounts": [
                {"site": a.site_id, "id": a.subject, "name": a.name, "website": a.website,
                 "email_verified": bool(a.email_verified),
                 "also_signs_in_as": [t.subject for t in tied if t.account_id == a.id],
                 "created_at": iso(a.created_at), "last_seen_at": iso(a.seen_at),
                 "sessions": [
                     {"method": s.method, "device": s.device, "created_at": iso(s.created_at),
                      "last_seen_at": iso(s.seen_at), "expires_at": iso(s.expires_at)}
                     for s in sessions if s.account_id == a.id
                 ],
                 "passkeys": [
                     {"name": k.name, "created_at": iso(k.created_at),
                      "last_used_at": iso(k.last_used_at)}
                     for k in keys if k.account_id == a.id
                 ]}
                for a in accounts
            ],
            "context_notes": [
                {"comment_id": n.comment_id, "site": n.site_id, "text": n.text,
                 "sources": list(n.sources or []), "status": n.status, "shown": bool(n.shown),
                 "created_at": iso(n.created_at)}
                for n in notes
            ],
            "note_ratings": [
                {"note_id": r.note_id, "helpful": bool(r.helpful),
                 "created_at": iso(r.created_at)}
                for r in ratings
            ],
            "reports": [
                {"comment_id": f.comment_id, "reason": f.reason, "note": f.note,
                 "created_at": iso(f.created_at)}
                for f in reports
            ],
            "votes": [
                {"comment_id": v.comment_id, "value": v.value, "created_at": iso(v.created_at)}
                for v in cast
            ],
            "sign_in_links": [
                {"site": link.site_id, "name": link.name, "page": link.page_url,
                 "requested_at": iso(link.created_at), "used_at": iso(link.used_at)}
                for link in links
            ],
            "dsa_notices": [
                {"id": n.id, "site": n.site_id, "comment_id": n.comment_id,
                 "ground": n.ground, "explanation": n.explanation, "name": n.notifier_name,
                 "received_at": iso(n.created_at), "status": n.status,
                 "outcome": n.outcome, "decided_at": iso(n.decided_at),
                 "complaint": n.complaint_text, "complained_at": iso(n.complained_at)}
                for n in notices
            ],
        }

    def forget(self, email: str, *, actor: str) -> dict[str, int]:
        """Erase the person's comments (replies to them stay, under a tombstone), their
        name, email, website and IP hash, their subscriptions and their sign-on accounts,
        and what the workspace and the outbox keep of the comments (revisions, audited
        text, messages not sent yet, their name in the labels of bans placed from them:
        the bans stay in force); the comments stay marked erased, so that no staff
        action brings their text back. One transaction, run again if PostgreSQL fails it
        to break a deadlock."""
        address = email.strip().lower()
        return self._erase(lambda conn: _by_address(conn, address), actor)

    def forget_account(self, account_id: int, *, actor: str) -> dict[str, int]:
        """Erase one reader account as ``forget`` erases an address's, without what is
        stored under its address but not under the account (comments written
        anonymously, subscriptions made signed out, other sites' accounts): the
        account's comments, sessions, passkeys, notes, the subscriptions it made to its
        own address, its sign-in links; its votes and reports stay, without their
        address hashes."""
        return self._erase(lambda _conn: Person(None, [account_id]), actor)

    def _erase(self, whose: Callable[[Connection], Person], actor: str) -> dict[str, int]:
        for attempt in attempts("a person's erasure"):
            with attempt, self.db.write() as conn:
                done, events = self._forget(conn, whose(conn), actor)
        self.comments.accounts.forget_cached()
        self.comments._notify(events)
        return done

    def _forget(self, conn: Connection, person: Person,
                actor: str) -> tuple[dict[str, int], list[CommentEvent]]:
        events: list[CommentEvent] = []
        address, account_ids = person.address, person.account_ids
        own_addresses = [] if address is not None else [
            str(e).lower() for e in conn.execute(
                select(reader_accounts.c.email).where(reader_accounts.c.id.in_(account_ids),
                                                      reader_accounts.c.email.is_not(None))
            ).scalars()]
        # Comments under the address, and those the person posted signed in by a site.
        rows = conn.execute(
            select(comments).where(or_(
                _is(comments.c.author_email, address),
                comments.c.account_id.in_(account_ids),
            )).order_by(comments.c.id)  # parents first, as a posting batch takes them
        ).all()
        ids = [r.id for r in rows]
        now = datetime.now(UTC)
        for chunk in _chunks(ids):
            _forget_messages_about(conn, chunk)
        for row in rows:
            if row.state != CommentState.DELETED.value:
                events.append(self.comments.change_state(
                    conn, row, CommentState.DELETED, actor=actor, erase=True))
            # Marked, so that no staff action publishes it or puts text back into it
            # (rostra.core.models.is_erased); what the checks learned of its words goes.
            conn.execute(update(comments).where(comments.c.id == row.id).values(
                moderation=_erased_moderation(row.moderation, now)))
        for chunk in _chunks(ids):
            conn.execute(
                update(comments).where(comments.c.id.in_(chunk)).values(
                    text="", html="", author_name=None, author_email=None,
                    author_website=None, ip_hash=None, voter_id=None, anchor=None)
            )
            # The text staff edits replaced, and the sentence embedding of the words.
            conn.execute(delete(comment_revisions).where(
                comment_revisions.c.comment_id.in_(chunk)))
            conn.execute(delete(comment_embeddings).where(
                comment_embeddings.c.comment_id.in_(chunk)))
            _scrub_audit(conn, chunk)
        _unname_bans(conn, set(ids))
        # An account alone: the subscriptions it made to its own address go.
        own_subscriptions = _own_subscriptions_go(conn, account_ids, own_addresses)
        # Other addresses' subscriptions made from the person's browser or accounts
        # forget which (the comments above forgot their voter id).
        voters = sorted({r.voter_id for r in rows if r.voter_id})
        for column, values in (("voter_id", voters), ("account_id", account_ids)):
            for start in range(0, len(values), 500):
                conn.execute(update(notify_subscriptions).where(
                    notify_subscriptions.c[column].in_(values[start:start + 500]))
                    .values({column: None}))
        # Their reports and votes on other people's comments still count, but the
        # report's note (their words) and the address hash of each go.
        readers = _readers_of(rows, account_ids)
        for start in range(0, len(readers), 500):
            keys = readers[start:start + 500]
            conn.execute(update(flags).where(flags.c.reader.in_(keys))
                         .values(note=None, ip_hash=None))
            conn.execute(update(votes).where(votes.c.voter.in_(keys)).values(ip_hash=None))
        # Subscriptions and queued mail go with the address (ON DELETE CASCADE); an
        # account alone takes those it made to its own address.
        subscriptions = conn.scalar(
            select(func.count()).select_from(notify_subscriptions)
            .join(notify_addresses,
                  notify_addresses.c.id == notify_subscriptions.c.address_id)
            .where(_is(notify_addresses.c.email, address))
        ) or 0
        subscriptions += own_subscriptions
        conn.execute(delete(notify_subscriptions).where(
            notify_subscriptions.c.address_id.in_(
                select(notify_addresses.c.id).where(_is(notify_addresses.c.email, address)))))
        conn.execute(delete(notify_addresses).where(_is(notify_addresses.c.email, address)))
        # Every session of those accounts ends, and links sent to the address go.
        sessions = conn.execute(delete(reader_sessions).where(
            reader_sessions.c.account_id.in_(account_ids))).rowcount
        conn.execute(delete(reader_sign_in_links).where(or_(
            _is(reader_sign_in_links.c.email, address),
            reader_sign_in_links.c.account_id.in_(account_ids))))
        # Every process forgets the accounts (one that remembered a signed-in reader
        # would otherwise go on posting under the erased account's id, and make no
        # account again, for minutes), and sites whose readers may no longer have a
        # passkey offer them no more.
        for site_id in conn.execute(
                select(reader_accounts.c.site_id).distinct()
                .where(reader_accounts.c.id.in_(account_ids))).scalars():
            changes.record(conn, Change(ChangeKind.SIGN_IN, site_id))
        conn.execute(delete(passkeys).where(passkeys.c.account_id.in_(account_ids)))
        # Context notes they proposed, and their ratings, go too; a thread that showed
        # one of those notes changes.
        shown = conn.execute(
            select(comments.c.thread_id).join(
                comment_notes, comment_notes.c.comment_id == comments.c.id)
            .where(comment_notes.c.account_id.in_(account_ids),
                   comment_notes.c.shown.is_(True)).distinct()).scalars().all()
        conn.execute(delete(note_ratings).where(note_ratings.c.account_id.in_(account_ids)))
        conn.execute(delete(comment_notes).where(
            comment_notes.c.account_id.in_(account_ids)))
        for thread_id in shown:
            queries.bump_thread(conn, thread_id, datetime.now(UTC))
        # DSA notices they filed are records the site keeps (Art. 15, 24), without
        # the notifier: name, address, reader key and address hash go. Filed without
        # the address, a notice is theirs by the reader key it was filed under.
        # By address first (which clears the reader key), then by reader key, 500 keys
        # a statement as for flags: no notice is counted twice.
        anonymous = {"notifier_name": None, "notifier_email": None, "reporter": None,
                     "ip_hash": None}
        notices = conn.execute(update(dsa_notices).where(
            _is(dsa_notices.c.notifier_email, address)).values(anonymous)).rowcount
        for keys in _chunks(readers):
            notices += conn.execute(update(dsa_notices).where(
                dsa_notices.c.reporter.in_(keys)).values(anonymous)).rowcount
        # Mail for the address without a subscription behind it (a notice's receipt
        # or decision, a statement of reasons): queued, it is not sent after the
        # erasure; sent, its row no longer keeps the address.
        conn.execute(delete(notify_outbox).where(_is(notify_outbox.c.recipient, address)))
        conn.execute(delete(reader_accounts).where(reader_accounts.c.id.in_(account_ids)))
        done = {"comments": len(ids), "subscriptions": int(subscriptions),
                "accounts": len(account_ids), "sessions": int(sessions),
                "notices": int(notices)}
        record_audit(conn, actor, "forget_person", "person", None, done,
                     "erasure on request")
        return done, events


def _readers_of(rows: Any, account_ids: list[int]) -> list[str]:
    """The keys the person's reports and votes are kept under: their accounts, and the
    voter ids and address hashes of their comments."""
    return (sorted({f"v:{r.voter_id}" for r in rows if r.voter_id})
            + [f"a:{i}" for i in account_ids]
            + sorted({f"i:{r.ip_hash}" for r in rows if r.ip_hash}))


def _chunks(ids: list[T], size: int = 500) -> Iterator[list[T]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _forget_messages_about(conn: Connection, ids: list[int]) -> None:
    """Messages about the erased comments: a webhook call's body is written when it is
    queued, so one still waiting (its receiver down, say) would send the person's name
    and words; it goes, and those sent keep no copy. Before the comments change: the
    calls saying they were deleted, queued by that change, carry nothing of the person.
    DSA mail is owed to a notifier and reads the comment only as it goes: it stays."""
    about = and_(notify_outbox.c.comment_id.in_(ids),
                 notify_outbox.c.kind != MessageKind.DSA.value)
    conn.execute(delete(notify_outbox).where(
        about, notify_outbox.c.sent_at.is_(None), notify_outbox.c.failed_at.is_(None)))
    conn.execute(update(notify_outbox).where(about).values(payload={ERASED: True}))


def _erased_moderation(moderation: Any, now: datetime) -> dict[str, Any]:
    """A comment's moderation record once erased: the action taken and its reasons' codes
    and scores (the site's figures count them), without the facts (the classifier's
    evidence quotes the text) and the sentences (one names the domains it linked to),
    and when it was erased."""
    record = moderation if isinstance(moderation, dict) else {}
    kept: dict[str, Any] = {ERASED: iso(now)}
    if "action" in record:
        kept["action"] = record["action"]
    reasons = [{"check": r.get("check"), "code": r.get("code"), "message": "",
                "score": r.get("score")}
               for r in record.get("reasons") or [] if isinstance(r, dict)]
    if reasons:
        kept["reasons"] = reasons
    return kept


# What an audit entry about a comment may hold of its author: a staff edit (and its undo)
# keeps the text it replaced and the text it wrote.
_PERSONAL_KEYS = ("text", "html", "name", "email", "website")
ERASED_VALUE = "[erased]"


def _scrub_audit(conn: Connection, ids: list[int]) -> None:
    """Audit entries about the erased comments keep who did what, when and why; the
    person's words, name and address in them are replaced by ``ERASED_VALUE``. A note's
    entry keeps its text: a note is somebody else's, and stays with the comment."""
    entries = conn.execute(
        select(audit_log.c.id, audit_log.c.before, audit_log.c.after)
        .where(audit_log.c.target.in_([f"comment:{i}" for i in ids]),
               audit_log.c.action != "add_note")
    ).all()
    for entry in entries:
        before, after = _scrubbed(entry.before), _scrubbed(entry.after)
        if (before, after) != (entry.before, entry.after):
            conn.execute(update(audit_log).where(audit_log.c.id == entry.id)
                         .values(before=before, after=after))


# A ban placed from a comment is labelled "author of comment N (name)", or "address of"
# or "network of" that (rostra.services.bans): what follows the comment's id is its name.
_BAN_LABEL_NAME = re.compile(r"(author of comment (\d+)) \(.*\Z", re.DOTALL)


def _unnamed_label(label: Any, ids: set[int]) -> Any:
    """``label`` without the author's name, where it names one of the comments ``ids``."""
    if not isinstance(label, str):
        return label
    found = _BAN_LABEL_NAME.search(label)
    if found is None or int(found.group(2)) not in ids:
        return label
    return label[:found.start()] + found.group(1)


def _unname_bans(conn: Connection, ids: set[int]) -> None:
    """Bans placed from the erased comments stay in force (their keys are hashes) but
    no longer name the person: their labels, and the labels in their audit entries,
    keep "author of comment N" without the name. Bans are few: their labels are read
    and the comment's id is matched here."""
    if not ids:
        return
    placed = conn.execute(select(bans.c.id, bans.c.label).where(
        bans.c.label.like("%author of comment %"))).all()
    named = {ban.id: _unnamed_label(ban.label, ids) for ban in placed}
    named = {ban.id: named[ban.id] for ban in placed if named[ban.id] != ban.label}
    for ban_id, label in named.items():
        conn.execute(update(bans).where(bans.c.id == ban_id).values(label=label))
    targets = [f"ban:{ban_id}" for ban_id in named]
    for start in range(0, len(targets), 500):
        entries = conn.execute(
            select(audit_log.c.id, audit_log.c.before, audit_log.c.after)
            .where(audit_log.c.target.in_(targets[start:start + 500]))).all()
        for entry in entries:
            before, after = (
                {**value, "label": _unnamed_label(value.get("label"), ids)}
                if isinstance(value, dict) and "label" in value else value
                for value in (entry.before, entry.after))
            if (before, after) != (entry.before, entry.after):
                conn.execute(update(audit_log).where(audit_log.c.id == entry.id)
                             .values(before=before, after=after))


def _scrubbed(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {k: ERASED_VALUE if k in _PERSONAL_KEYS and v not in (None, "") else v
            for k, v in value.items()}


def _is(column: Any, address: str | None) -> Any:
    """``column`` holds ``address`` in any case; nothing does for None (an account)."""
    return false() if address is None else func.lower(column) == address


def _own_subscriptions_go(conn: Connection, account_ids: list[int],
                          addresses: list[str]) -> int:
    """Delete the subscriptions the accounts made to their own addresses; how many."""
    if not addresses:
        return 0
    return int(conn.execute(delete(notify_subscriptions).where(
        notify_subscriptions.c.account_id.in_(account_ids),
        notify_subscriptions.c.address_id.in_(
            select(notify_addresses.c.id)
            .where(func.lower(notify_addresses.c.email).in_(addresses))))).rowcount)


def _by_address(conn: Connection, address: str) -> Person:
    """The person of ``address``: it, and the accounts (any site) with it."""
    return Person(address, list(conn.execute(
        select(reader_accounts.c.id).where(func.lower(reader_accounts.c.email) == address)
        .order_by(reader_accounts.c.id)).scalars()))


def _notices_of(conn: Connection, address: str | None, readers: list[str]) -> list[Any]:
    """DSA notices the person filed, by id: with their address, or under one of the
    reader keys their reports are kept under (``_readers_of``: signed in as one of
    their accounts, or from the browser or address they commented from), 500 keys a
    statement."""
    found = {n.id: n for n in conn.execute(select(dsa_notices).where(
        _is(dsa_notices.c.notifier_email, address)))}
    for keys in _chunks(readers):
        found.update((n.id, n) for n in conn.execute(
            select(dsa_notices).where(dsa_notices.c.reporter.in_(keys))))
    return [found[i] for i in sorted(found)]
