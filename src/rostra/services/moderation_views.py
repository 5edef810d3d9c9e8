"""In-memory views of what every post reads and moderators rarely change: the active
bans of a site and authors' histories (``author_stats``).

Each process keeps its own. A change made through this process's ModerationService
reaches them as soon as its transaction commits (the service invalidates them); a
change made by another process (another worker, the command line) within ``TTL``
seconds, when the view reloads. A load that began before an invalidation is not kept,
so a view never holds what was read before a change it was told about.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select

from rostra.moderation.checks.bans import BanHit
from rostra.moderation.checks.reputation import History
from rostra.moderation.ip_hashing import ADDRESS_KEYS, window_of
from rostra.store.db import Database
from rostra.store.moderation_tables import author_stats, bans

TTL = 5.0  # seconds a view trusts what it read, for changes made by other processes
MAX_BANS = 50_000  # active bans per site kept in memory; a site with more is queried
MAX_HISTORIES = 50_000  # judged authors per site kept in memory; a site with more is queried
# Rows another server wrote with a clock this far behind ours are still caught up with.
CLOCK_SKEW = timedelta(seconds=60)
_NO_HISTORY = History()

_BAN_COLUMNS = (bans.c.id, bans.c.kind, bans.c.value, bans.c.shadow, bans.c.reason,
                bans.c.expires_at)
_ACTIVE = (
    bans.c.site_id == bindparam("site_id"),
    bans.c.lifted_at.is_(None),
    or_(bans.c.expires_at.is_(None), bans.c.expires_at > bindparam("now")),
)
_SITE_BANS = select(*_BAN_COLUMNS).where(*_ACTIVE).limit(bindparam("limit"))
_SITE_ADDRESS_BANS = select(bans.c.value).distinct().where(
    *_ACTIVE, bans.c.kind.in_(("ip", "range")))
_BANS_ON_KEYS = (
    select(*_BAN_COLUMNS)
    .where(*_ACTIVE, bans.c.value.in_(bindparam("keys", expanding=True)))
    .order_by(bans.c.shadow.asc(), bans.c.id.asc())
    .limit(1)
)
_HISTORY_COLUMNS = (author_stats.c.author, author_stats.c.approved, author_stats.c.rejected,
                    author_stats.c.spam, author_stats.c.notices, author_stats.c.updated_at)
_SITE_HISTORIES = (select(*_HISTORY_COLUMNS)
                   .where(author_stats.c.site_id == bindparam("site_id"))
                   .limit(bindparam("limit")))
_SITE_HISTORIES_SINCE = (select(*_HISTORY_COLUMNS)
                         .where(author_stats.c.site_id == bindparam("site_id"),
                                author_stats.c.updated_at >= bindparam("since"))
                         .limit(bindparam("limit")))
_HISTORY = select(author_stats.c.approved, author_stats.c.rejected, author_stats.c.spam,
                  author_stats.c.notices).where(
    author_stats.c.site_id == bindparam("site_id"), author_stats.c.author == bindparam("author")
)

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class _SiteBans:
    loaded_at: float
    generation: int
    # ban key -> its active bans; None when the site has more than MAX_BANS of them.
    by_value: dict[str, list[BanHit]] | None
    # The windows its active address and network bans were hashed in.
    windows: frozenset[str]


def _outranks(a: BanHit, b: BanHit) -> bool:
    """A full ban before a shadow one, then the oldest (as the query orders them)."""
    return (a.shadow, a.id) < (b.shadow, b.id)


class BanView:
    """Each site's active bans, by key."""

    def __init__(self, db: Database, *, ttl: float = TTL, clock: Clock = time.monotonic,
                 limit: int = MAX_BANS) -> None:
        self.db = db
        self.ttl = ttl
        self.limit = limit
        self._clock = clock
        self._sites: dict[str, _SiteBans] = {}
        self._generations: dict[str, int] = {}
        self._lock = threading.Lock()

    def active(self, site_id: str, keys: list[str]) -> BanHit | None:
        """The active ban on any of ``keys`` at ``site_id``; a full ban before a shadow one."""
        if not keys:
            return None
        snapshot = self._snapshot(site_id)
        now = datetime.now(UTC)
        if snapshot.by_value is None:
            with self.db.read() as conn:
                row = conn.execute(_BANS_ON_KEYS, {"site_id": site_id, "now": now,
                                                   "keys": keys}).first()
            return _hit(row) if row is not None else None
        best = None
        for key in keys:
            for ban in snapshot.by_value.get(key, ()):
                if ban.expires_at is not None and ban.expires_at <= now:
                    continue
                if best is None or _outranks(ban, best):
                    best = ban
        return best

    def windows(self, site_id: str) -> frozenset[str]:
        """The windows (rostra.moderation.ip_hashing) of the site's active address bans."""
        return self._snapshot(site_id).windows

    def invalidate(self, site_id: str) -> None:
        """Forget the site's bans: called after a change to them commits."""
        with self._lock:
            self._generations[site_id] = self._generations.get(site_id, 0) + 1
            self._sites.pop(site_id, None)

    def _snapshot(self, site_id: str) -> _SiteBans:
        now = self._clock()
        snapshot = self._sites.get(site_id)
        generation = self._generations.get(site_id, 0)
        if snapshot is not None and snapshot.generation == generation:
            # A site with too many bans is asked per post; whether it still has that many
            # is looked at seldom (reading them all is what a view saves).
            ttl = self.ttl if snapshot.by_value is not None else self.ttl * 60
            if now - snapshot.loaded_at < ttl:
                return snapshot
        with self.db.read() as conn:
            rows = conn.execute(_SITE_BANS, {"site_id": site_id, "now": datetime.now(UTC),
                                             "limit": self.limit + 1}).all()
        by_value: dict[str, list[BanHit]] | None = None
        if len(rows) <= self.limit:
            by_value = {}
            for row in rows:
                by_value.setdefault(row.value, []).append(_hit(row))
            values = list(by_value)
        else:
            with self.db.read() as conn:
                values = list(conn.scalars(_SITE_ADDRESS_BANS, {"site_id": site_id,
                                                               "now": datetime.now(UTC)}))
        windows = frozenset(window_of(v) for v in values if v.split(":", 1)[0] in ADDRESS_KEYS)
        snapshot = _SiteBans(now, generation, by_value, windows)
        with self._lock:
            if self._generations.get(site_id, 0) == generation:  # no change since the read
                self._sites[site_id] = snapshot
        return snapshot


def _hit(row: Any) -> BanHit:
    return BanHit(row.id, row.kind, bool(row.shadow), row.reason, row.expires_at)


@dataclass(slots=True)
class _SiteHistories:
    synced_at: float
    # Every author with a history on the site; None when there are more than the view
    # keeps (then each post asks the database about its author).
    rows: dict[str, History] | None
    high_water: datetime | None  # the latest updated_at read


class HistoryView:
    """Each site's authors' moderation histories.

    Most posts come from authors no moderator has judged yet; keeping the (few) judged
    ones in memory answers those posts without a query. The view catches up with other
    processes every ``ttl`` seconds by reading the rows updated since its last read.
    """

    def __init__(self, db: Database, *, ttl: float = TTL, clock: Clock = time.monotonic,
                 capacity: int = MAX_HISTORIES) -> None:
        self.db = db
        self.ttl = ttl
        self.capacity = capacity
        self._clock = clock
        self._sites: dict[str, _SiteHistories] = {}
        self._lock = threading.Lock()

    def get(self, site_id: str, author: str) -> History:
        site = self._sites.get(site_id)
        if site is None or self._clock() - site.synced_at >= self.ttl:
            site = self._sync(site_id)
        rows = site.rows
        if rows is not None:
            return rows.get(author, _NO_HISTORY)
        return self._read(site_id, author)

    def invalidate(self, site_id: str, author: str) -> None:
        """Re-read one author's history: called after a decision on them commits."""
        history = self._read(site_id, author)
        with self._lock:
            site = self._sites.get(site_id)
            if site is not None and site.rows is not None:
                site.rows[author] = history

    def _read(self, site_id: str, author: str) -> History:
        with self.db.read() as conn:
            row = conn.execute(_HISTORY, {"site_id": site_id, "author": author}).first()
        return History(row.approved, row.rejected, row.spam, row.notices) if row else _NO_HISTORY

    def _sync(self, site_id: str) -> _SiteHistories:
        with self._lock:  # one thread reads; the others wait for its result
            site = self._sites.get(site_id)
            now = self._clock()
            if site is not None and now - site.synced_at < self.ttl:
                return site
            if site is not None and site.rows is None:
                site.synced_at = now  # too many to keep: nothing to catch up with
                return site
            since = site.high_water - CLOCK_SKEW if site and site.high_water else None
            with self.db.read() as conn:
                if since is None:
                    rows = conn.execute(_SITE_HISTORIES, {
                        "site_id": site_id, "limit": self.capacity + 1}).all()
                else:
                    rows = conn.execute(_SITE_HISTORIES_SINCE, {
                        "site_id": site_id, "since": since, "limit": self.capacity + 1}).all()
            if site is None:
                site = _SiteHistories(now, {}, None)
            site.synced_at = now
            if site.rows is not None:
                for row in rows:
                    site.rows[row.author] = History(row.approved, row.rejected, row.spam,
                                                    row.notices)
                    if site.high_water is None or row.updated_at > site.high_water:
                        site.high_water = row.updated_at
                if len(site.rows) > self.capacity:
                    site.rows = None
            self._sites[site_id] = site
            return site


@dataclass(frozen=True, slots=True)
class ModerationViews:
    bans: BanView
    histories: HistoryView


_views: weakref.WeakKeyDictionary[Database, ModerationViews] = weakref.WeakKeyDictionary()
_views_lock = threading.Lock()


def views_of(db: Database) -> ModerationViews:
    """The views of ``db`` in this process, shared by every ModerationService on it (the
    admin UI may build its own), so that a change through one reaches all."""
    with _views_lock:
        views = _views.get(db)
        if views is None:
            views = _views[db] = ModerationViews(BanView(db), HistoryView(db))
        return views
