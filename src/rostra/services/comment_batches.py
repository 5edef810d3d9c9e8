"""Storing posts in batches: the posting lane's group commit. One transaction and one
INSERT for whatever posts the lane gathered, each checked against its thread as it is
inside the transaction (closed since, or its parent gone: that post alone is refused),
the counters written once at the end, and a batch whose COMMIT lost its connection
looked for before it runs again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Row, insert, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from rostra.core.errors import Forbidden, InvalidInput, NotFound, RostraError
from rostra.core.models import CommentState, Site, ThreadCreation
from rostra.core.site_settings import SiteSettings
from rostra.moderation.decision import Decision
from rostra.services.comment_values import (
    CommentEvent,
    EventKind,
    NewComment,
    Posted,
    RequestContext,
)
from rostra.services.serialise import comment_json, shadow_published
from rostra.services.sites import SiteService
from rostra.services.tokens import Tokens
from rostra.store import changes, queries
from rostra.store.comment_insert import CommentIds, id_taken, insert_comments, stale_thread
from rostra.store.db import Database, RolledBack, attempts, commit_unknown
from rostra.store.tables import comments, threads


@dataclass(frozen=True, slots=True)
class Prepared:
    """A comment checked, moderated and rendered, ready for its transaction."""

    new: NewComment
    ctx: RequestContext
    site: Site
    site_settings: SiteSettings
    key: str
    text: str
    html: str
    name: str | None
    email: str | None
    website: str | None
    title: str | None
    url: str | None
    anchor: dict[str, Any] | None
    account_id: int | None
    voter_id: str
    voter_token: str | None
    ip_hash: str | None
    now: datetime
    decision: Decision
    state: CommentState


@dataclass(slots=True)
class _Placed:
    """A prepared comment checked inside its transaction, with the row to insert."""

    prepared: Prepared
    thread: Row[Any]
    values: dict[str, Any]
    retitled: bool
    row: Any = None  # once inserted: the row as written, with its id


class StaleThreads(Exception):
    """A thread read by an earlier transaction was closed or removed since: the batch's
    transaction failed, and runs again reading its threads afresh."""


class _SharedWrite:
    """What the posts of one transaction share: the threads read so far (the writer's
    lock keeps them as read), and the counter changes owed to each thread, written once
    at the end instead of once per comment."""

    def __init__(self, known: bool) -> None:
        self.known = known  # may threads read by earlier transactions be used
        self.threads: dict[tuple[str, str], Row[Any]] = {}
        self.bumps: dict[int, tuple[Row[Any], datetime, int, int]] = {}
        self.replies: dict[int, int] = {}  # parent id -> new approved replies to it

    def bump(self, thread: Row[Any], now: datetime, comments: int, top_level: int) -> None:
        was = self.bumps.get(thread.id)
        if was is not None:
            now, comments, top_level = max(was[1], now), was[2] + comments, was[3] + top_level
        self.bumps[thread.id] = (thread, now, comments, top_level)


KNOWN_THREADS = 4096  # threads remembered by a process (forgotten all at once past it)


def _stamp_before(conn: Connection, thread: Row[Any]) -> datetime | None:
    """The thread's stamp as this write found it, where that says something: on SQLite
    the thread was read in this (serialised) transaction (on PostgreSQL it may come
    from an earlier one, and the change bus tells of other processes' changes anyway);
    a thread never stamped since it was made (one this very post makes) has none."""
    if conn.dialect.name != "sqlite" or thread.updated_at == thread.created_at:
        return None
    return thread.updated_at  # type: ignore[no-any-return]


# The key, in a held comment's decision facts, of the title and address it brought.
THREAD_OFFER = "thread_offer"


def _offered(p: Prepared) -> tuple[str | None, str | None]:
    """(title, address) the post may give its thread now. Readers see a thread's title in
    its page, feeds, digests and webhooks, so only a published comment names it; a held
    one's wait in its decision's facts (``thread_offer``) until it is approved
    (``CommentService.change_state``)."""
    if p.state is not CommentState.APPROVED:
        return None, None
    return p.title, p.url


def _retitles(thread: Row[Any], p: Prepared) -> bool:
    """Whether the post gives its thread the title or address it lacks."""
    title, url = _offered(p)
    return bool(thread.title is None and title or thread.url is None and url)


def _moderation(p: Prepared) -> dict[str, Any]:
    """The comment's ``moderation`` column: its decision, and for a comment not published
    the title and address it brought, kept for when it is approved."""
    moderation = p.decision.to_json()
    if p.state is not CommentState.APPROVED and (p.title or p.url):
        moderation["facts"] = {**moderation.get("facts", {}),
                               THREAD_OFFER: {"title": p.title, "url": p.url}}
    return moderation


def _wrote(comment: Row[Any], author: tuple[int | None, str]) -> bool:
    """Whether ``author`` (account id, voter id) wrote ``comment``."""
    account_id, voter_id = author
    return comment.voter_id == voter_id or (
        account_id is not None and comment.account_id == account_id)


TxHook = Callable[[Connection, CommentEvent], None]
Listener = Callable[[CommentEvent], None]


class BatchStorage:
    """The batch-writing half of CommentService (which sets what is declared here),
    with what it shares with the rest of it: the hooks and listeners told of each
    comment, a parent's checks and its reply count."""

    db: Database
    sites: SiteService
    tokens: Tokens
    tx_hooks: list[TxHook]
    listeners: list[Listener]
    committing: list[Callable[[list[CommentEvent]], None]]
    # PostgreSQL: open threads as an earlier transaction read them, by (site, key as
    # posted). Reading the thread was a round trip of its own before the INSERT, a
    # seventh of the posting process's time under a flood of posts to one thread.
    known_threads: dict[tuple[str, str], Row[Any]]
    comment_ids: CommentIds  # PostgreSQL: new comments' ids, taken ahead

    def _emit(self, conn: Connection, event: CommentEvent) -> None:
        for hook in self.tx_hooks:
            hook(conn, event)

    def _notify(self, events: list[CommentEvent]) -> None:
        for event in events:
            for listener in self.listeners:
                listener(event)

    def _check_parent(
        self, parent: Row[Any] | None, thread: Row[Any] | None, site_settings: SiteSettings,
        author: tuple[int | None, str], shadowed: bool = True,
    ) -> None:
        """Raise unless ``parent`` may be replied to by ``author`` (account id, voter id).
        ``shadowed``: the reply is held for a shadow ban (``True`` before moderation has
        decided), so it may answer its own author's comment held for one that looks
        published to them: refusing would tell them (nobody else sees either). Anyone
        else is refused as for any held comment, before the text is checked: its id can
        be guessed, and any other answer would tell it is hidden."""
        if parent is None or thread is None or parent.thread_id != thread.id:
            raise NotFound("parent_id: no such comment in this thread", code="parent_not_found")
        if parent.state != CommentState.APPROVED.value and not (
                shadowed and parent.state == CommentState.PENDING.value
                and shadow_published(parent.moderation) and _wrote(parent, author)):
            raise InvalidInput("parent_id: that comment cannot be replied to")
        if parent.depth + 1 > site_settings.max_depth:
            raise InvalidInput("parent_id: replies are nested too deeply here")

    def _adjust_reply_count(self, conn: Connection, comment_id: int, delta: int) -> None:
        """Change a comment's visible-reply count; a tombstone appearing or vanishing
        changes its own parent's count in turn."""
        while True:
            # FOR NO KEY UPDATE: a reply being inserted elsewhere holds its parent FOR KEY
            # SHARE (its foreign key) until it commits, which FOR UPDATE would wait for,
            # and two batches replying to one comment would then wait for each other.
            row = conn.execute(
                comments.select().where(comments.c.id == comment_id)
                .with_for_update(key_share=True)
            ).first()
            if row is None:
                return
            was = queries.is_visible(row.state, row.reply_count)
            count = max(0, row.reply_count + delta)
            conn.execute(
                update(comments).where(comments.c.id == comment_id).values(reply_count=count)
            )
            now_visible = queries.is_visible(row.state, count)
            if was == now_visible or row.parent_id is None:
                return
            comment_id, delta = row.parent_id, (1 if now_visible else -1)

    def _store_all(self, batch: list[Prepared]) -> list[Posted | Exception]:
        """One transaction for the batch, and one INSERT for its comments. An item the
        checks inside it refuse (its thread closed or its parent gone since it was
        prepared) gets its error; the rest commit. A transaction PostgreSQL failed to
        break a deadlock (or a serialization conflict) rolled back whole: it runs again,
        as does one whose COMMIT lost its connection, once its comments are found not
        to be stored."""
        for attempt in attempts(f"storing {len(batch)} comment(s)"):
            with attempt:
                stored = self._store_once(batch)
        return stored

    def _store_once(self, batch: list[Prepared]) -> list[Posted | Exception]:
        for known in (True, False, False):
            try:
                return self._store_try(batch, known=known)
            except StaleThreads:
                # A thread read by an earlier transaction (or this one, closed as it
                # ran) was closed or removed since: the transaction rolled back, and this
                # time every thread is read as it is now.
                for prepared in batch:
                    self.known_threads.pop((prepared.site.id, prepared.key), None)
        raise RolledBack("threads closed or removed while the batch was stored, thrice")

    def _store_try(self, batch: list[Prepared], *, known: bool) -> list[Posted | Exception]:
        outcomes: list[_Placed | Exception] = []
        events: list[CommentEvent] = []
        shared = _SharedWrite(known)
        ids: list[int] = []
        try:
            self._write_batch(batch, outcomes, events, shared, ids)
        except DBAPIError as exc:
            if stale_thread(exc):
                raise StaleThreads from exc
            if id_taken(exc):
                self.comment_ids.forget()
                raise RolledBack("comment ids taken ahead are in use; taking new ones") from exc
            if not (commit_unknown(exc) and ids and self._committed(ids, exc)):
                raise
            # Committed: only its answer was lost. (A Redis bus's message for it is
            # not sent; other processes see it at their next poll.)
        self._notify(events)
        return [item if isinstance(item, Exception) else self._posted(item.prepared, item.row)
                for item in outcomes]

    def _committed(self, ids: list[int], lost: DBAPIError) -> bool:
        """Whether the batch that inserted ``ids`` committed, its COMMIT having lost its
        connection. Raises RolledBack when it did not (it may run again), and ``lost``
        when that cannot be known (the database still away): its posts then fail, as
        storing them again could store them twice."""
        try:
            with self.db.read() as conn:
                found = queries.count_comments(conn, ids)
        except Exception:
            raise lost from None
        if found == 0:
            raise RolledBack(f"{len(ids)} comment(s) not stored; running the batch again")
        if found != len(ids):  # one transaction: all or none (unless removed since)
            raise lost
        return True

    def _write_batch(self, batch: list[Prepared], outcomes: list[_Placed | Exception],
                     events: list[CommentEvent], shared: _SharedWrite,
                     ids: list[int]) -> None:
        """The batch's transaction; ``ids`` gets the new comments' ids once inserted."""
        with self.db.write() as conn:
            for prepared in batch:
                try:
                    outcomes.append(self._place(conn, prepared, shared))
                except RostraError as exc:
                    outcomes.append(exc)
            placed = [item for item in outcomes if not isinstance(item, Exception)]
            if placed:
                if conn.dialect.name == "postgresql":
                    self._give_ids(conn, placed)
                ids += insert_comments(conn, [item.values for item in placed])
                staff = self._staff_of(conn, placed)
                for item, comment_id in zip(placed, ids, strict=True):
                    events.append(self._stored(conn, item, comment_id, shared, staff))
            # Counters last, parents then threads, each in the order of their ids:
            # concurrent batches on PostgreSQL then lock rows in one order and never
            # wait for each other in a circle.
            for parent_id, count in sorted(shared.replies.items()):
                self._adjust_reply_count(conn, parent_id, count)
            # Stamped as the transaction ends, not when its posts were prepared: other
            # workers' polls look back a moment from what they saw last, and a post
            # that waited for the writer's lock (an import's batch) longer than that
            # would carry a stamp they had already passed.
            ending = datetime.now(UTC)
            for thread_id, (thread, now, comment_count, top_level_count) in sorted(
                    shared.bumps.items()):
                now = max(now, ending)
                shared.bumps[thread_id] = (thread, now, comment_count, top_level_count)
                queries.bump_read_thread(conn, thread, now, comment_count=comment_count,
                                         top_level_count=top_level_count)
            events[:] = [replace(event, at=shared.bumps[event.thread_id][1],
                                 before=_stamp_before(conn, shared.bumps[event.thread_id][0]))
                         for event in events]
            for note in self.committing:
                note(events)

    def _give_ids(self, conn: Connection, placed: list[_Placed]) -> None:
        """PostgreSQL: each comment's id, taken ahead (``CommentIds``). A reply whose
        parent has a larger one (posted through another process, or imported, since
        this one took its ids) gets a fresh id from the sequence, larger still: a reply's
        id stays above its parent's, as an export lists them and a restore needs."""
        for item, taken in zip(placed, self.comment_ids.take(conn, len(placed)), strict=True):
            parent = item.values["parent_id"]
            if parent is not None and taken <= parent:
                taken = self.comment_ids.fresh(conn)
            item.values["id"] = taken

    def _place(self, conn: Connection, p: Prepared, shared: _SharedWrite) -> _Placed:
        """Check one prepared comment against its thread as it is now and give it its
        row. Raises RostraError only before writing anything for it, so the transaction
        stays good for the rest of a batch."""
        new = p.new
        thread = self._post_thread(conn, p, shared)
        if thread.closed:
            raise Forbidden("this discussion is closed", code="thread_closed")
        depth, root_id = 0, None
        if new.parent_id is not None:
            parent = queries.comment_row(conn, new.parent_id)
            self._check_parent(parent, thread, p.site_settings, (p.account_id, p.voter_id),
                               shadowed="shadow" in p.decision.facts)
            assert parent is not None
            # root_id is NULL for a top-level comment (or its own id, from importers).
            depth, root_id = parent.depth + 1, parent.root_id or parent.id
        retitled = _retitles(thread, p)
        if retitled:
            title, url = _offered(p)
            conn.execute(
                update(threads).where(threads.c.id == thread.id).values(
                    title=thread.title or title, url=thread.url or url
                )
            )
            del shared.threads[(p.site.id, p.key)]  # the next post reads it as it is now
            self.known_threads.pop((p.site.id, p.key), None)
        values = {
            "thread_id": thread.id, "parent_id": new.parent_id, "root_id": root_id,
            "depth": depth, "state": p.state.value, "author_name": p.name,
            "author_email": p.email, "author_website": p.website,
            "account_id": p.account_id, "voter_id": p.voter_id, "ip_hash": p.ip_hash,
            "text": p.text, "html": p.html, "created_at": p.now, "score": 0, "upvotes": 0,
            "downvotes": 0, "reply_count": 0, "anchor": p.anchor,
            "language": p.decision.facts.get("language"),
            "moderation": _moderation(p),
        }
        return _Placed(p, thread, values, retitled)

    @staticmethod
    def _staff_of(conn: Connection, placed: list[_Placed]) -> set[tuple[str, int]]:
        """(site, account) of the batch's authors who carry the "Staff" badge: one
        question per site, not one per comment."""
        accounts: dict[str, set[int]] = {}
        for item in placed:
            if item.prepared.account_id is not None:
                accounts.setdefault(item.prepared.site.id, set()).add(
                    item.prepared.account_id)
        return {(site_id, account_id) for site_id, ids in accounts.items()
                for account_id in queries.staff_accounts(conn, site_id, ids)}

    def _stored(self, conn: Connection, item: _Placed, comment_id: int,
                shared: _SharedWrite, staff: set[tuple[str, int]]) -> CommentEvent:
        """What follows from one comment being inserted: counters, changes, hooks."""
        p, thread, new = item.prepared, item.thread, item.prepared.new
        # The row is what was just written, with its id (given ahead on PostgreSQL,
        # returned on SQLite): reading it back (JSON columns included) cost as much as
        # the insert.
        row = item.row = SimpleNamespace(edited_at=None, voted_at=None,
                                         **(item.values | {"id": comment_id}))
        row.staff = (p.site.id, p.account_id) in staff
        approved = int(p.state is CommentState.APPROVED)
        # Other processes send it to their open pages if it is approved when they read it.
        changes.record_published(conn, thread.id, comment_id)
        shared.bump(thread, p.now, approved, approved if new.parent_id is None else 0)
        if approved and new.parent_id is not None:
            shared.replies[new.parent_id] = shared.replies.get(new.parent_id, 0) + 1
        event = CommentEvent(
            EventKind.CREATED, row.id, thread.id, p.site.id, thread.key,
            new.parent_id, None, p.state,
            comment=comment_json(row, staff=row.staff)
            if p.state is CommentState.APPROVED else None,
            retitled=item.retitled, row=row,
        )
        self._emit(conn, event)
        return event

    def _posted(self, p: Prepared, row: Any) -> Posted:
        window = p.site_settings.edit_window_seconds
        return Posted(
            comment=comment_json(row, to_author=True, staff=row.staff),
            edit_token=self.tokens.edit_token(row.id),
            editable_until=p.now + timedelta(seconds=window),
            voter_token=p.voter_token,
            decision=p.decision,
            site_id=p.site.id,
            edit_window_seconds=window,
        )

    def _post_thread(self, conn: Connection, p: Prepared, shared: _SharedWrite) -> Row[Any]:
        """The post's thread as this transaction read it, or (PostgreSQL) as an earlier
        one did when it was open, found under this very key (not an alias) and needs no
        title or address from this post; the INSERT checks that one is still there and
        open. (A thread keeps its key; a site's move changes only its address, which this
        post then leaves as the row had it, as it would a title set since.)"""
        where = (p.site.id, p.key)
        thread = shared.threads.get(where)
        if thread is not None:
            return thread
        thread = self.known_threads.get(where) if shared.known else None
        if thread is None or _retitles(thread, p):
            title, url = _offered(p)
            thread = self._thread_for_write(conn, p.site, p.key, url, title)
            if (conn.dialect.name == "postgresql" and not thread.closed
                    and thread.key == p.key and thread.site_id == p.site.id):
                if len(self.known_threads) >= KNOWN_THREADS:
                    self.known_threads.clear()
                self.known_threads[where] = thread
            else:
                self.known_threads.pop(where, None)
        shared.threads[where] = thread
        return thread

    def _thread_for_write(
        self, conn: Connection, site: Site, key: str, url: str | None, title: str | None
    ) -> Row[Any]:
        row = queries.find_thread(conn, site.id, key)
        if row is not None:
            return row
        if self.sites.settings_of(site.id).thread_creation is ThreadCreation.CLOSED:
            raise NotFound(
                f"no thread {key[:100]!r} on this site, and the site does not create threads "
                "on first comment",
                code="thread_not_found",
            )
        now = datetime.now(UTC)
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(threads).values(
                        site_id=site.id, key=key, url=url, title=title, created_at=now,
                        updated_at=now, comment_count=0, top_level_count=0, closed=False,
                    )
                )
        except IntegrityError:
            pass  # created by a concurrent request on PostgreSQL; use theirs
        row = queries.find_thread(conn, site.id, key)
        assert row is not None
        return row
