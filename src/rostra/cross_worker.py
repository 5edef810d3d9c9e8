"""How one process learns of what the others wrote: cached pages dropped and open
live streams told, from the change bus at once and from polling as the fallback; and
what a posting process must forget when a change makes its moderation reads stale."""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from rostra.api.cache import ReadCache, Tag, VoteCounts
from rostra.api.live import LiveHub
from rostra.services.container import Services
from rostra.services.moderation_views import ModerationViews, views_of
from rostra.store import queries
from rostra.store.changes import Change, ChangeKind, stamp_before

log = logging.getLogger("rostra")

# Changes made by other workers are seen through threads.updated_at; clocks and commit
# order can put a row slightly in the past, so each poll looks back this far.
POLL_SLACK = timedelta(seconds=2)
# While the change bus is connected, polling only catches what it could not carry (what
# was written while it reconnected, or by a process without a bus).
BUS_POLL_SECONDS = 5.0
# ... and leaves to the bus the changes of this last moment, whose messages may be on
# their way (SQLite's bus reads its table every 0.1 s).
BUS_GRACE = timedelta(seconds=2)


# What moderating a post reads and a change makes stale: a posting process hears of
# these from its worker, in order with the posts (so a ban answered before a post holds
# for that post), and acts on them with ``forget_what_moderation_read``.
POSTING_READS: frozenset[str] = frozenset({
    ChangeKind.BANS, ChangeKind.HISTORY, ChangeKind.SIGN_IN, ChangeKind.SITES,
    ChangeKind.RESYNC})


def forget_what_moderation_read(services: Services, views: ModerationViews,
                                change: Change) -> None:
    """Drop what this process remembers that ``change`` (one of POSTING_READS) made
    stale: a site's bans, an author's history, how its readers sign in, the sites."""
    if change.kind is ChangeKind.BANS:
        views.bans.invalidate(change.site_id)
    elif change.kind is ChangeKind.HISTORY:
        views.histories.invalidate(change.site_id, change.key)
    elif change.kind is ChangeKind.SIGN_IN:
        services.forget_sign_in(change.site_id)
    elif change.kind is ChangeKind.SITES:
        services.sites.reload()
    elif change.kind is ChangeKind.RESYNC:
        services.sites.reload()
        services.forget_sign_in()
        for site in services.sites.list():
            views.bans.invalidate(site.id)


class CrossWorkerInvalidation:
    """Drops cached pages of threads that another process changed, and tells the open
    live streams: from the change bus at once, from polling as the fallback."""

    def __init__(self, services: Services, cache: ReadCache, hub: LiveHub) -> None:
        self.services = services
        self.cache = cache
        self.hub = hub
        self.seen: dict[int, datetime] = {}
        # updated_at values this process's own writes gave threads, lately: the bus may
        # bring one back after a later write of ours, out of order.
        self.mine: OrderedDict[int, deque[datetime]] = OrderedDict()
        # ... and every stamp this process's writes gave them (``committed``).
        self.stamped: OrderedDict[int, deque[datetime]] = OrderedDict()
        # ... and those of its votes and edits, whose news its pages had at commit.
        self.told: OrderedDict[int, deque[datetime]] = OrderedDict()
        self.since = datetime.now(UTC)
        # Pages are read after this: a change stamped before it is in every one of them.
        self.started = self.since
        self.views = views_of(services.db)
        self.staff_stamp: str | None = None
        self.stamp_read = False  # before the first poll there is nothing cached to drop

    def _thread_changed(self, site_id: str, key: str, thread_id: int,
                        updated_at: datetime | None, change: Change | None = None) -> bool:
        """Drop the thread's cached pages and tell its open pages; False when the change
        was known already. ``change``: as the bus brought it, with the news open pages
        show in place (comments taken down, vote counts); True when it also carries
        comments to read and send them (``apply_slow``)."""
        if updated_at is not None and (self.seen.get(thread_id) == updated_at
                                       or updated_at in self.mine.get(thread_id, ())):
            return False  # heard of already (from the bus, or an earlier poll), or ours
        if updated_at is not None:
            self.seen[thread_id] = updated_at
        tags: list[Tag] = [("thread", str(thread_id)), ("key", site_id, key), ("site", site_id)]
        if updated_at is not None and updated_at in self.told.get(thread_id, ()):
            # A vote, edit or decision of ours: our comments' listener dropped the pages
            # and told them at commit. The poll sees a thread's newest stamp only, and
            # another process's change may hide behind ours: drop them again then.
            if change is None:
                self.cache.invalidate(tags)
            return False
        only_votes = change is not None and change.votes and not (
            change.comments or change.removed or change.edited)
        self.cache.invalidate(
            tags, VoteCounts(change.votes) if only_votes and change is not None else None)
        if change is None or not change.shown_in_place:
            # A bare "changed", which each page answers with a fetch (spread over
            # seconds): the poll's news, and changes that carry nothing pages show.
            self.hub.publish(site_id, key, {"thread": key})
            return False
        if change.removed:
            self.hub.publish(site_id, key, {"thread": key, "removed": list(change.removed)})
        self._tell_votes(change)
        self._tell_thread(change)
        return bool(change.comments or change.edited)

    def _tell_thread(self, change: Change) -> None:
        """The news of a change no comment's listener sends: the discussion closed or
        opened again, comments featured or pinned."""
        if change.closed is not None:
            self.hub.publish(change.site_id, change.key,
                             {"thread": change.key, "closed": change.closed})
        if change.pins:
            self.hub.publish(change.site_id, change.key, {"thread": change.key, "pins": [
                {"id": i, "kind": kind or None} for i, kind in change.pins]})

    def _tell_votes(self, change: Change) -> None:
        if change.votes:
            self.hub.publish(change.site_id, change.key, {"thread": change.key, "votes": [
                {"id": i, "score": score, "upvotes": up, "downvotes": down}
                for i, score, up, down in change.votes]})

    def _send_published(self, change: Change) -> None:
        """Comments published (posted, or approved by a moderator) or edited by a
        change: their open pages get each comment as the thread's page shows it now, so
        they need not fetch the thread."""
        for ids, name in ((change.comments, "comment"), (change.edited, "edited")):
            if not ids:
                continue
            try:
                shown = self.services.reading.published(change.site_id, change.thread_id, ids)
            except Exception:  # the pages still learn that something changed
                log.exception("reading comments changed elsewhere")
                self.hub.publish(change.site_id, change.key, {"thread": change.key})
                return
            for comment in shown:  # none when they were held or removed meanwhile
                if name == "edited":
                    del comment["replies"]  # the page has them: only the comment changed
                self.hub.publish(change.site_id, change.key,
                                 {"thread": change.key, name: comment})

    def ours(self, thread_id: int, updated_at: datetime, before: datetime | None = None,
             site_id: str = "", key: str = "") -> None:
        """Note a change this process is about to commit (its listeners act on it).
        ``before``: the thread's stamp as the change found it, where known. A stamp this
        process never saw is another process's change, which this one's stamp is about
        to hide from the poll (it sees only the newest): the thread's pages are dropped
        now (without the bus, nothing else would tell of it)."""
        if (before is not None and site_id and before >= self.started
                and self.seen.get(thread_id) != before
                and before not in self.mine.get(thread_id, ())
                and before not in self.stamped.get(thread_id, ())):
            self._thread_changed(site_id, key, thread_id, None)
        self.seen[thread_id] = updated_at
        self._remember(self.mine, thread_id, updated_at)

    def committing(self, conn: Connection, changes: list[Change]) -> None:
        """Before a commit of this process: its votes, edits and moderators' decisions
        reach its open pages from ``committed`` (and from the comments' listener, for
        comments taken down), and the bus, which may bring the change back before that
        ran, must not tell them again. (Posts are ``mine`` already: the posting path
        tells pages of them.)"""
        for change in changes:
            if self._told_at_commit(change):
                assert change.at is not None
                self._remember(self.told, change.thread_id, change.at)
                if self._knows(change.thread_id, stamp_before(conn, change.thread_id)):
                    # Nothing of another process's can hide behind it: the poll may
                    # pass it by (a vote's pages are then brought up to date from the
                    # counts, not read again).
                    self.seen[change.thread_id] = change.at

    def _knows(self, thread_id: int, stamp: datetime | None) -> bool:
        """Whether every page this process read of the thread since ``stamp`` was
        stamped shows what the stamp's change did (or it was this process's)."""
        if stamp is None:
            return False
        return (stamp < self.started or self.seen.get(thread_id) == stamp
                or any(stamp in known.get(thread_id, ())
                       for known in (self.mine, self.stamped, self.told)))

    def _told_at_commit(self, change: Change) -> bool:
        return (change.kind is ChangeKind.THREAD and change.at is not None
                and change.shown_in_place
                and change.at not in self.mine.get(change.thread_id, ()))

    def committed(self, changes: list[Change]) -> None:
        """After a commit of this process: the stamps its writes gave threads (votes,
        edits, decisions as well as posts), which a later post finds as its ``before``.
        Kept apart from ``mine``: the bus and the poll drop the thread's cached pages.
        Votes, edits and approved comments reach this process's open pages from here,
        at once (comments taken down, from the comments' listener); the other
        processes' from the bus (or, without one, from their poll, as a bare
        "changed")."""
        for change in changes:
            if change.kind is not ChangeKind.THREAD or change.at is None:
                continue
            self._remember(self.stamped, change.thread_id, change.at)
            if self._told_at_commit(change):
                try:
                    if change.closed is not None or change.pins:
                        # No comment's listener drops the thread's pages for these.
                        self.cache.invalidate([("thread", str(change.thread_id)),
                                               ("key", change.site_id, change.key),
                                               ("site", change.site_id)])
                    self._tell_thread(change)
                    self._tell_votes(change)
                    self._send_published(change)
                except Exception:  # the write committed: never fail it now
                    log.exception("telling open pages of a change")

    @staticmethod
    def _remember(stamps: OrderedDict[int, deque[datetime]], thread_id: int,
                  updated_at: datetime) -> None:
        recent = stamps.get(thread_id)
        if recent is None:
            recent = stamps[thread_id] = deque(maxlen=64)
            if len(stamps) > 10_000:
                stamps.popitem(last=False)
        else:
            stamps.move_to_end(thread_id)
        recent.append(updated_at)

    def poll(self, resync: bool = False) -> None:
        """Look for threads changed by other processes. While the change bus is up, the
        changes of the last ``BUS_GRACE`` are left to it (unless ``resync``): a poll
        between a commit and its message would tell pages a bare "changed" and, the
        stamp then seen, drop the message that carries what changed."""
        bus = self.services.bus
        until = (datetime.now(UTC) - BUS_GRACE
                 if bus is not None and bus.connected and not resync else None)
        with self.services.db.read() as conn:
            rows = queries.changed_threads(conn, self.since - POLL_SLACK, until)
            stamp = queries.staff_stamp(conn)
        if self.stamp_read and stamp != self.staff_stamp:
            # Someone became, or stopped being, a site's staff (queries.staff_changed):
            # their "Staff" badges change on pages of any thread.
            self.cache.clear()
        self.staff_stamp, self.stamp_read = stamp, True
        newest = self.since
        for row in rows:
            self._thread_changed(row.site_id, row.key, row.id, row.updated_at)
            newest = max(newest, row.updated_at)
        self.since = newest
        cutoff = newest - POLL_SLACK * 2
        if len(self.seen) > 10_000:
            self.seen = {k: v for k, v in self.seen.items() if v > cutoff}

    def apply(self, changes: list[Change]) -> list[Change]:
        """Act on changes heard from the bus; returns those that need the database
        (run ``apply_slow`` on them off the event loop)."""
        slow = []
        for change in changes:
            if change.kind is ChangeKind.THREAD:
                if self._thread_changed(change.site_id, change.key, change.thread_id,
                                        change.at, change):
                    slow.append(change)
            elif change.kind in (ChangeKind.BANS, ChangeKind.SIGN_IN):
                forget_what_moderation_read(self.services, self.views, change)
            else:
                slow.append(change)
        return slow

    def apply_slow(self, changes: list[Change]) -> None:
        for change in changes:
            if change.kind is ChangeKind.HISTORY:
                forget_what_moderation_read(self.services, self.views, change)
                if self.services.reading.shows_regulars(change.site_id):
                    self.cache.invalidate([("pages", change.site_id)])
            elif change.kind is ChangeKind.STAFF:
                self.cache.invalidate([("pages", change.site_id)])
            elif change.kind is ChangeKind.THREAD:
                self._send_published(change)
            elif change.kind is ChangeKind.SITES:
                forget_what_moderation_read(self.services, self.views, change)
            elif change.kind is ChangeKind.RESYNC:
                forget_what_moderation_read(self.services, self.views, change)
                self.poll(resync=True)
