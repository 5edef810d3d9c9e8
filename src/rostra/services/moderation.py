"""Moderation use cases: staff decisions, bans (``rostra.services.bans``), reader flags,
the queue, the audit log.

Each method is one transaction, and every change a person makes is recorded in the
audit log with who and why (``record_audit``, which other staff features use too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from rostra.core.errors import Conflict, InvalidInput, NotFound
from rostra.core.models import CommentState, is_erased
from rostra.moderation.checks.bans import BanHit
from rostra.moderation.checks.reputation import History
from rostra.moderation.identity import author_key_of_row
from rostra.moderation.pow import Solved
from rostra.notify.alerts import comment_flagged
from rostra.services.audit_log import record_audit
from rostra.services.bans import BanDesk, BanKind, BanRequest
from rostra.services.comment_values import READERS
from rostra.services.comments import CommentEvent, CommentService, EventKind, RequestContext
from rostra.services.dsa_context import Source, deciding
from rostra.services.moderation_views import views_of
from rostra.services.serialise import comment_json, iso
from rostra.store import changes, queries
from rostra.store.account_tables import reader_accounts
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import attempts, upsert
from rostra.store.moderation_tables import (
    audit_log,
    author_stats,
    comment_embeddings,
    flags,
    pow_used,
)
from rostra.store.tables import comments, threads

log = logging.getLogger("rostra.moderation")


def erased_conflict(comment_id: int) -> Conflict:
    """What staff are told when they would publish, edit or restore a comment erased on
    its author's request (rostra.services.personal_data)."""
    return Conflict(f"comment {comment_id} was erased on its author's request: it cannot "
                    "be published, edited or given its text back", code="erased")


# How a comment's state reads in "comment 12 was ... meanwhile".
STATE_WORDS = {"approved": "approved", "rejected": "rejected", "spam": "marked as spam",
               "deleted": "deleted", "pending": "held again"}


def decided_since(conn: Connection, comment_id: int, state: str) -> Conflict:
    """What a moderator is told who acted on a comment as their page showed it, when
    another decision moved it since: who made that one (the audit log's latest entry
    leaving it in ``state``), so that a stale page never overrides it unseen."""
    latest = conn.execute(
        select(audit_log.c.actor, audit_log.c.after).where(
            audit_log.c.target == f"comment:{comment_id}")
        .order_by(audit_log.c.id.desc()).limit(1)).first()
    by = (f" (by {latest.actor})"
          if latest is not None and (latest.after or {}).get("state") == state else "")
    return Conflict(f"comment {comment_id} was {STATE_WORDS.get(state, state)} meanwhile{by}; "
                    "it is left as it is: reload to see the queue as it is now",
                    code="changed_since")


class StaffAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"
    DELETE = "delete"


TARGET_STATE = {
    StaffAction.APPROVE: CommentState.APPROVED,
    StaffAction.REJECT: CommentState.REJECTED,
    StaffAction.SPAM: CommentState.SPAM,
    StaffAction.DELETE: CommentState.DELETED,
}


class FlagReason(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off-topic"
    OTHER = "other"


class QueueKind(StrEnum):
    HELD = "held"
    FLAGGED = "flagged"
    SPAM = "spam"
    SHADOW = "shadow"


@dataclass(frozen=True, slots=True)
class Decided:
    """A moderator's decision as its transaction left it (``ModerationService.decide_in``)."""

    comment_id: int
    action: StaffAction
    row: Row[Any]
    thread: Row[Any]
    author: str | None
    events: list[CommentEvent]


class ModerationService(BanDesk):
    """The door for moderation changes: staff routes, the admin UI and the CLI use it."""

    def __init__(self, comments_service: CommentService) -> None:
        self.comments = comments_service
        self.db = comments_service.db
        self.sites = comments_service.sites
        self.tokens = comments_service.tokens
        self.hashing = comments_service.hashing
        self.salt = self.hashing.email_salt
        # Bans and histories as every post reads them, shared in this process.
        self.views = views_of(self.db)
        # Called after a staff decision commits: (site id, comment id, is bad) -> None.
        # Called after each approve, reject or spam: (site, comment id, "approve"|"reject"|"spam").
        self.learners: list[Callable[[str, int, str], None]] = []

    # -- lookups the checks use --------------------------------------------

    def active_ban(self, site_id: str, keys: list[str]) -> BanHit | None:
        """The active ban on any of ``keys`` at ``site_id``; a full ban before a shadow one.

        Read from the process's in-memory view of the site's bans (see
        ``rostra.services.moderation_views``): a post costs no query.
        """
        return self.views.bans.active(site_id, keys)

    def history(self, site_id: str, author: str) -> History:
        """The author's approved/rejected/spam counts on the site (zeros when unknown)."""
        return self.views.histories.get(site_id, author)

    def account_created(self, site_id: str, account_id: int) -> datetime | None:
        """When a signed-in reader's account on the site was made (the trust check's
        account age); None when there is no such account."""
        with self.db.read() as conn:
            value = conn.scalar(select(reader_accounts.c.created_at).where(
                reader_accounts.c.id == account_id, reader_accounts.c.site_id == site_id))
        return value if isinstance(value, datetime) else None

    def count_upheld_notice(self, conn: Connection, site_id: str, row: Row[Any]) -> None:
        """Count an upheld DSA notice against the author of comment ``row`` (earned
        trust is lost by it), inside the caller's transaction."""
        author = author_key_of_row(row, self.salt)
        if not author:
            return
        now = datetime.now(UTC)
        stmt = upsert(conn)(author_stats).values(
            site_id=site_id, author=author, approved=0, rejected=0, spam=0, notices=1,
            updated_at=now)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[author_stats.c.site_id, author_stats.c.author],
            set_={"notices": author_stats.c.notices + 1, "updated_at": now}))
        changes.record(conn, Change(ChangeKind.HISTORY, site_id, author))

    def uncount_upheld_notice(self, conn: Connection, site_id: str, row: Row[Any]) -> None:
        """Take back ``count_upheld_notice`` for comment ``row``: the removal on the
        notice was reversed on appeal, and costs its author no trust any more."""
        author = author_key_of_row(row, self.salt)
        if not author:
            return
        conn.execute(update(author_stats).where(
            author_stats.c.site_id == site_id, author_stats.c.author == author,
            author_stats.c.notices > 0).values(notices=author_stats.c.notices - 1,
                                               updated_at=datetime.now(UTC)))
        changes.record(conn, Change(ChangeKind.HISTORY, site_id, author))

    def spend_pow(self, solved: Solved) -> bool:
        """Mark a proof-of-work challenge spent; False when it was spent before.

        A post's check: it runs again after a deadlock or a connection lost before its
        COMMIT (PostgreSQL restarting in the spam wave the puzzle was turned on for),
        not after one lost at COMMIT (the second try would find the challenge spent,
        by this post, and refuse it as a replay)."""
        try:
            for attempt in attempts("spending a proof of work"):
                with attempt, self.db.write() as conn:
                    conn.execute(
                        insert(pow_used).values(
                            challenge=solved.challenge,
                            expires_at=datetime.fromtimestamp(solved.expires_at, UTC),
                        )
                    )
        except IntegrityError:
            return False
        return True

    def prune(self) -> int:
        """Forget spent challenges that expired (they could not be replayed anyway)."""
        with self.db.write() as conn:
            result = conn.execute(pow_used.delete().where(pow_used.c.expires_at < datetime.now(UTC)))
        return int(result.rowcount or 0)

    # -- staff decisions ----------------------------------------------------

    def decide(
        self, comment_id: int, action: StaffAction, *, actor: str, reason: str | None = None,
        seen: str | None = None,
    ) -> dict[str, Any]:
        """Approve, reject, mark spam or delete a comment; recorded and learned from.
        ``seen``: the state the moderator saw it in; moved from it since, nothing changes
        (409 ``changed_since``)."""
        for attempt in attempts("a moderator's decision"):
            with attempt, self.db.write() as conn:
                decided = self.decide_in(conn, comment_id, action, actor=actor, reason=reason,
                                         seen=seen)
        self.after_decision(decided)
        return self._comment_out(decided.row, decided.thread)

    def decide_in(self, conn: Connection, comment_id: int, action: StaffAction, *,
                  actor: str, reason: str | None = None, seen: str | None = None) -> Decided:
        """``decide``'s transaction, inside the caller's (a DSA notice's decision and
        the comment's removal commit together); ``after_decision`` once it committed."""
        target = TARGET_STATE[action]
        events: list[CommentEvent] = []
        row = queries.comment_row(conn, comment_id)
        if row is None:
            raise NotFound(f"no comment with id {comment_id}")
        row = queries.locked_comment(conn, row)  # its state, as another left it
        if target is not CommentState.DELETED and is_erased(row.moderation):
            raise erased_conflict(comment_id)
        if seen is not None and row.state != seen:
            raise decided_since(conn, comment_id, row.state)
        thread = queries.thread_by_id(conn, row.thread_id)
        assert thread is not None
        before = row.state
        if row.state != target.value:
            with deciding(Source.MODERATOR, actor=actor, reason=reason):
                events.append(self.comments.change_state(conn, row, target, actor=actor,
                                                         locked=True))
        # Open flags are answered by this decision.
        answered = conn.execute(
            update(flags)
            .where(flags.c.comment_id == comment_id, flags.c.resolved_at.is_(None))
            .values(resolved_at=datetime.now(UTC))
        ).rowcount
        author = author_key_of_row(row, self.salt)
        # The author's record counts each decision once: approving a published comment
        # is a moderator's endorsement (on a site that publishes at once, the only way
        # to earn trust), but making the same decision again on a comment nothing
        # changed since (a second click, another tab) would count it twice.
        if author and action is not StaffAction.DELETE and (
                before != target.value or answered
                or _last_decision(conn, comment_id) != action.value):
            self._count_decision(conn, thread.site_id, author, action)
        record_audit(conn, actor, action.value, f"comment:{comment_id}",
                     {"state": before}, {"state": target.value}, reason,
                     site_id=thread.site_id)
        row = queries.comment_row(conn, comment_id)
        assert row is not None
        return Decided(comment_id, action, row, thread, author, events)

    def after_decision(self, decided: Decided) -> None:
        """What follows a decision's commit: the author's history read afresh, the
        events sent, the classifier taught."""
        if decided.author:
            self.views.histories.invalidate(decided.thread.site_id, decided.author)
        self.comments._notify(decided.events)
        if decided.action is not StaffAction.DELETE:
            for learn in self.learners:
                try:
                    learn(decided.thread.site_id, decided.comment_id, decided.action.value)
                except Exception:  # learning is a bonus; the decision stands
                    log.exception("learning from the decision on comment %s failed",
                                  decided.comment_id)

    def _count_decision(self, conn: Connection, site_id: str, author: str,
                        action: StaffAction) -> None:
        column = {StaffAction.APPROVE: "approved", StaffAction.REJECT: "rejected",
                  StaffAction.SPAM: "spam"}[action]
        now = datetime.now(UTC)
        values = {"site_id": site_id, "author": author, "approved": 0, "rejected": 0,
                  "spam": 0, "updated_at": now, column: 1}
        stmt = upsert(conn)(author_stats).values(**values)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[author_stats.c.site_id, author_stats.c.author],
            set_={column: author_stats.c[column] + 1, "updated_at": now},
        ))
        changes.record(conn, Change(ChangeKind.HISTORY, site_id, author))

    # -- bans ---------------------------------------------------------------

    # -- reader flags -------------------------------------------------------

    def flag(self, comment_id: int, reason: FlagReason, note: str | None,
             ctx: RequestContext, flags_to_hold: int) -> bool:
        """A reader reports a comment; returns whether this flag held it for review."""
        ip_hash = self.comments.ip_hash(ctx.ip)
        voter_id = self.tokens.voter_id(ctx.voter_token)
        with self.db.read() as conn:
            row = queries.comment_row(conn, comment_id)
        if row is None or row.state != CommentState.APPROVED.value:
            raise NotFound(f"no comment with id {comment_id}")
        thread = self.comments._thread_of(row)
        self.sites.check_origin(self.sites.get(thread.site_id), ctx.origin)
        # A signed-in reader flags as their account, from whatever browser (as they vote).
        signed_in = self.comments.accounts.reader(thread.site_id, ctx.sso, ctx.session)
        account_id = signed_in.id if signed_in is not None else ctx.account_id
        if account_id is not None:
            reader = f"a:{account_id}"
        elif voter_id:
            reader = f"v:{voter_id}"
        elif ip_hash:
            reader = f"i:{ip_hash}"
        else:
            raise InvalidInput("flags need a reader: send the X-Rostra-Voter header")
        # Run again after a deadlock or a lost connection, even one lost at COMMIT: a
        # flag set twice is set once (the second try finds it and holds nothing more).
        event = None
        for attempt in attempts("a reader's flag", idempotent=True):
            with attempt, self.db.write() as conn:
                event = self._flag_once(conn, comment_id, reader, reason, note, ip_hash,
                                        flags_to_hold, thread.site_id)
        if event is not None:
            self.comments._notify([event])
        return event is not None

    def _flag_once(self, conn: Connection, comment_id: int, reader: str, reason: FlagReason,
                   note: str | None, ip_hash: str | None, flags_to_hold: int,
                   site_id: str) -> CommentEvent | None:
        """The flag's transaction; the event of the hold it caused, if it did. The
        comment is locked first: flags on it count one after another, each seeing the
        others' (two at once each counted without the other and neither held it)."""
        row = queries.comment_row(conn, comment_id)
        current = queries.locked_comment(conn, row) if row is not None else None
        try:
            with conn.begin_nested():
                conn.execute(insert(flags).values(
                    comment_id=comment_id, reader=reader, reason=reason.value,
                    note=(note or "")[:500] or None, ip_hash=ip_hash,
                    created_at=datetime.now(UTC),
                ))
        except IntegrityError:
            return None  # this reader flagged it already: counted once
        count = conn.scalar(
            select(func.count()).select_from(flags)
            .where(flags.c.comment_id == comment_id, flags.c.resolved_at.is_(None))
        ) or 0
        if count == 1:
            # The first report tells the site's moderators (if it has any listed); a
            # hold by further reports alerts them again as a held comment.
            comment_flagged(conn, comment_id, reason=reason.value, flags=count)
        if not (flags_to_hold and count >= flags_to_hold and current is not None
                and current.state == CommentState.APPROVED.value):
            return None
        event = self.comments.change_state(conn, current, CommentState.PENDING,
                                           actor=READERS, locked=True)
        moderation = dict(current.moderation or {})
        moderation["reasons"] = [*moderation.get("reasons", []), {
            "check": "flags", "code": "flagged",
            "message": f"{count} readers flagged it", "score": float(count)}]
        conn.execute(update(comments).where(comments.c.id == comment_id)
                     .values(moderation=moderation))
        record_audit(conn, READERS, "hold", f"comment:{comment_id}",
                     {"state": "approved"}, {"state": "pending"},
                     f"{count} readers flagged it", site_id=site_id)
        return event

    # -- reading for moderators ----------------------------------------------

    def queue(self, site_id: str, kind: QueueKind, *, limit: int = 50,
              before_id: int | None = None) -> list[dict[str, Any]]:
        """Comments that need a moderator, newest first."""
        c = comments.c
        query = (
            select(comments, threads.c.key.label("thread_key"),
                   threads.c.title.label("thread_title"), threads.c.url.label("thread_url"),
                   threads.c.site_id.label("site_id"))
            .join(threads, threads.c.id == c.thread_id)
            .where(threads.c.site_id == site_id)
        )
        if kind is QueueKind.FLAGGED:
            open_flags = select(flags.c.comment_id).where(flags.c.resolved_at.is_(None))
            query = query.where(c.id.in_(open_flags))
        elif kind is QueueKind.SPAM:
            query = query.where(c.state == CommentState.SPAM.value)
        else:
            query = query.where(c.state == CommentState.PENDING.value)
        # Newest first by the time they were posted (ids are taken ahead by each posting
        # process, so they interleave); ``before_id``: the last comment of the page before.
        # Shadow-banned comments are told apart by their stored facts, so the page is
        # filtered here; pages stay bounded by reading a few times the limit.
        query = query.order_by(c.created_at.desc(), c.id.desc()).limit(
            limit * 4 if kind in (QueueKind.HELD, QueueKind.SHADOW) else limit)
        with self.db.read() as conn:
            if before_id is not None:
                at = conn.scalar(select(c.created_at).where(c.id == before_id))
                query = query.where(c.id < before_id if at is None else or_(
                    c.created_at < at, and_(c.created_at == at, c.id < before_id)))
            rows = []
            for row in conn.execute(query).all():
                shadow = "shadow" in ((row.moderation or {}).get("facts") or {})
                if kind is QueueKind.HELD and shadow or kind is QueueKind.SHADOW and not shadow:
                    continue
                rows.append(row)
                if len(rows) >= limit:
                    break
            # The page's flags in one statement, not one per comment.
            flagged = _flags_of(conn, [row.id for row in rows])
        return [self._staff_json(row, flagged.get(row.id, [])) for row in rows]

    def comment(self, comment_id: int) -> dict[str, Any]:
        """One comment as moderators see it, with its flags and audit trail."""
        with self.db.read() as conn:
            row = conn.execute(
                select(comments, threads.c.key.label("thread_key"),
                       threads.c.title.label("thread_title"),
                       threads.c.url.label("thread_url"), threads.c.site_id.label("site_id"))
                .join(threads, threads.c.id == comments.c.thread_id)
                .where(comments.c.id == comment_id)
            ).first()
            if row is None:
                raise NotFound(f"no comment with id {comment_id}")
            out = self._staff_json(row, _flags_of(conn, [comment_id]).get(comment_id, []))
            out["audit"] = [
                _audit_json(a) for a in conn.execute(
                    select(audit_log).where(audit_log.c.target == f"comment:{comment_id}")
                    .order_by(audit_log.c.id.asc())
                ).all()
            ]
            out["has_embedding"] = conn.scalar(
                select(func.count()).select_from(comment_embeddings)
                .where(comment_embeddings.c.comment_id == comment_id)
            ) == 1
        return out

    def site_of_comment(self, comment_id: int) -> str:
        site_id = self.comments.site_of(comment_id)
        if site_id is None:
            raise NotFound(f"no comment with id {comment_id}")
        return str(site_id)

    def audit(self, site_id: str, *, limit: int = 100,
              before_id: int | None = None) -> list[dict[str, Any]]:
        query = select(audit_log).where(audit_log.c.site_id == site_id)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(audit_log.c.id.desc()).limit(limit)).all()
        return [_audit_json(r) for r in rows]

    def _staff_json(self, row: Row[Any], flag_rows: list[Any]) -> dict[str, Any]:
        public = comment_json(row, reveal_pending=True)
        return {
            **public,
            "state": row.state,  # the real state, tombstones included
            "text": row.text,
            "author": {"name": row.author_name, "email": row.author_email,
                       "website": row.author_website, "account_id": row.account_id},
            "site": row.site_id,
            "thread": {"id": row.thread_id, "key": row.thread_key, "title": row.thread_title,
                       "url": row.thread_url},
            "language": row.language,
            "moderation": row.moderation,
            "shadow": "shadow" in ((row.moderation or {}).get("facts") or {}),
            "flags": [{"reason": f.reason, "note": f.note, "created_at": iso(f.created_at),
                       "open": f.resolved_at is None} for f in flag_rows],
        }

    def _comment_out(self, row: Row[Any], thread: Row[Any]) -> dict[str, Any]:
        return {**comment_json(row, reveal_pending=True), "state": row.state,
                "site": thread.site_id}

    # -- transaction hook: embeddings ------------------------------------------

    def embedding_hook(self, stash: Any) -> Callable[[Connection, CommentEvent], None]:
        """A tx hook that stores the embedding computed while deciding about a new comment."""

        def store(conn: Connection, event: CommentEvent) -> None:
            if event.kind is not EventKind.CREATED or not stash:
                return
            moderation = event.row.moderation  # a new comment's event carries its row
            ref = ((moderation or {}).get("facts") or {}).get("ref")
            taken = stash.take(ref) if ref else None
            if taken is None:
                return
            encoder, vector = taken
            conn.execute(insert(comment_embeddings).values(
                comment_id=event.comment_id, site_id=event.site_id, encoder=encoder,
                vector=pack_vector(vector), created_at=datetime.now(UTC),
            ))

        return store

    def text_of(self, comment_id: int) -> str | None:
        """The comment's current text (what a moderator judged), or None if it is gone."""
        with self.db.read() as conn:
            text = conn.scalar(select(comments.c.text).where(comments.c.id == comment_id))
        return str(text) if text is not None else None


def _flags_of(conn: Connection, ids: list[int]) -> dict[int, list[Any]]:
    """The flags on each of ``ids``, oldest first."""
    found: dict[int, list[Any]] = {}
    if ids:
        for f in conn.execute(
                select(flags.c.comment_id, flags.c.reason, flags.c.note, flags.c.created_at,
                       flags.c.resolved_at)
                .where(flags.c.comment_id.in_(ids))
                .order_by(flags.c.created_at.asc(), flags.c.reader.asc())).all():
            found.setdefault(f.comment_id, []).append(f)
    return found


def pack_vector(vector: Any) -> bytes:
    import numpy as np

    return bytes(np.asarray(vector, dtype=np.float16).tobytes())


def _audit_json(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id, "site": row.site_id, "actor": row.actor, "action": row.action,
        "target": row.target, "before": row.before, "after": row.after, "reason": row.reason,
        "created_at": iso(row.created_at),
    }


__all__ = [
    "BanKind", "BanRequest", "FlagReason", "ModerationService", "QueueKind", "StaffAction",
    "erased_conflict", "pack_vector", "record_audit",
]


def _last_decision(conn: Connection, comment_id: int) -> str | None:
    """The latest approve, reject or spam decision the audit log has on a comment."""
    found = conn.scalar(
        select(audit_log.c.action)
        .where(audit_log.c.target == f"comment:{comment_id}",
               audit_log.c.action.in_([a.value for a in (
                   StaffAction.APPROVE, StaffAction.REJECT, StaffAction.SPAM)]))
        .order_by(audit_log.c.id.desc()).limit(1))
    return str(found) if found is not None else None
