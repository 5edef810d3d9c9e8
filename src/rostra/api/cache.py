"""Serialised responses of hot reads, dropped by tag when a write touches them.

Tags are ("thread", id) for a known thread, ("key", site, key) for a page nobody
commented on yet, and ("site", site) for counts. A page computed while a write was
being made is not stored as current (generation check), so no stale page outlives its
write as if it were current.

A hot thread takes writes while hundreds of readers wait for its page, so a missing
page is rebuilt by one flight per key at a time (``rebuild``): the readers that come
while it runs share its result. A page a write made stale is kept aside for a moment:
while a rebuild runs, readers may be given it (``stale``), marked as such, instead of
queueing behind the rebuild; the live stream brings them the new comment anyway.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from rostra.api.metrics import PAGE_REBUILDS, PAGE_UPDATES, STALE_SERVED

Tag = tuple[str, ...]
CacheKey = tuple[str, bytes, str]
# How much invalidation history ``changes_since`` can look back on.
HISTORY_PER_TAG = 64
HISTORY_TAGS = 10_000
HISTORY_CHANGES = 50_000


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    etag: str
    site_id: str
    tags: tuple[Tag, ...]
    # time.monotonic() when the snapshot behind the page was begun
    built_at: float = 0.0
    # time.monotonic() from when a write made the page out of date (stale pages only)
    stale_since: float = 0.0
    # the cache's generation when the read began: changes after it are not in the page
    gen: int = -1
    # the body gzipped (None when too small to gain from it), made once per page
    gzipped: bytes | None = None

    @property
    def gzip_etag(self) -> str:
        """The gzipped body's ETag: another representation, another tag."""
        return self.etag[:-1] + '-gz"'


# Pages this small fit in a packet or two as they are.
GZIP_FROM_BYTES = 1400


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def page_entry(data: bytes, site_id: str, tags: tuple[Tag, ...], built_at: float,
               gen: int) -> Entry:
    """A page to cache, gzipped once here (off the event loop) for every reader whose
    browser accepts it: a 1,000-comment thread is about 500 KB of JSON and 80 KB gzipped.
    Level 1 takes about 2.5 ms for that page and gains most of what level 6 would."""
    gzipped = (gzip.compress(data, compresslevel=1, mtime=0)
               if len(data) >= GZIP_FROM_BYTES else None)
    return Entry(data, etag_of(data), site_id, tags, built_at, gen=gen, gzipped=gzipped)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (``gzip;q=0`` refuses it)."""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        if name.strip() not in ("gzip", "x-gzip", "*"):
            continue
        key, _, value = params.replace(" ", "").partition("=")
        if key != "q":
            return True
        try:
            return float(value) > 0
        except ValueError:
            return False
    return False


@dataclass(frozen=True, slots=True)
class PageChange:
    """A change a writer describes to the cache: a comment it published (as a page
    shows it), or None for one that shows on no page (a held comment)."""

    comment: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class VoteCounts:
    """A change a writer describes to the cache: comments' vote counts as votes left
    them, (id, score, upvotes, downvotes) each."""

    counts: tuple[tuple[int, int, int, int], ...]


@dataclass(slots=True)
class _Flight:
    task: asyncio.Task[Entry]
    started_gen: int
    tags: tuple[Tag, ...] | None  # the page's tags when known (from its last version)


class ReadCache:
    def __init__(self, capacity: int, stale_seconds: float = 0.0) -> None:
        self.capacity = capacity
        self.stale_seconds = stale_seconds
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()
        # Pages a write made out of date, kept for readers who come while the new one
        # is built (only served until ``stale_seconds`` after a write made them stale).
        self._stale: OrderedDict[CacheKey, Entry] = OrderedDict()
        self._by_tag: dict[Tag, set[CacheKey]] = {}
        self._tag_gen: dict[Tag, int] = {}
        self._gen = 0
        self._cleared_at = -1
        # Tags' generations before this one may have been forgotten (``_tag_gen`` is
        # pruned): a page read before it cannot be told apart from one still current.
        self._reliable_from = -1
        self._lock = threading.Lock()
        # Rebuilds under way, by key; touched from the event loop only.
        self._flights: dict[CacheKey, _Flight] = {}
        # What recent invalidations were, where the writer said (``change``), so that a
        # rebuild can bring a page up to date without reading it again: the generations
        # at which each tag was invalidated, and the change made at each generation.
        self._tag_history: OrderedDict[Tag, deque[int]] = OrderedDict()
        # Tags whose history was forgotten and begun again: their history is whole only
        # for pages read at or after the generation here.
        self._history_from: dict[Tag, int] = {}
        self._changes: OrderedDict[int, object] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.rebuilds = 0
        self.updates = 0  # rebuilds that brought the old page up to date, no database
        self.stale_served = 0

    def generation(self) -> int:
        return self._gen

    def get(self, key: CacheKey) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def put(self, key: CacheKey, entry: Entry, started_gen: int) -> bool:
        """Store unless one of the entry's tags was invalidated after ``started_gen``;
        True when stored as current. A page that lost that race is still newer than the
        stale one kept for the key, and takes its place."""
        if self.capacity <= 0:
            return False
        with self._lock:
            # Invalidations bump the generation first, so one made after the read began
            # carries a generation above ``started_gen``.
            if self._cleared_at > started_gen or self._reliable_from > started_gen:
                return False
            if any(self._tag_gen.get(tag, -1) > started_gen for tag in entry.tags):
                # Out of date since some moment after its snapshot began; say since then.
                self._keep_stale(key, replace(entry, stale_since=entry.built_at))
                return False
            old = self._entries.pop(key, None)
            if old is not None:
                self._untag(key, old)
            self._stale.pop(key, None)
            self._entries[key] = entry
            for tag in entry.tags:
                self._by_tag.setdefault(tag, set()).add(key)
            while len(self._entries) > self.capacity:
                old_key, old_entry = self._entries.popitem(last=False)
                self._untag(old_key, old_entry)
            return True

    def _keep_stale(self, key: CacheKey, entry: Entry) -> None:
        if self.stale_seconds <= 0:
            return
        was = self._stale.get(key)
        if was is not None and was.built_at > entry.built_at:
            return
        self._stale[key] = entry
        self._stale.move_to_end(key)
        while len(self._stale) > self.capacity:
            self._stale.popitem(last=False)

    def _untag(self, key: CacheKey, entry: Entry) -> None:
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    def invalidate(self, tags: Iterable[Tag], change: object = None) -> None:
        """Drop the pages of ``tags``; ``change`` (not None) says what changed, for
        ``changes_since``."""
        with self._lock:
            self._gen += 1
            if change is not None:
                self._changes[self._gen] = change
                while len(self._changes) > HISTORY_CHANGES:
                    self._changes.popitem(last=False)
            for tag in tags:
                history = self._tag_history.get(tag)
                if history is None:
                    history = self._tag_history[tag] = deque(maxlen=HISTORY_PER_TAG)
                    was = self._tag_gen.get(tag)
                    if was is not None and was != self._gen:
                        # Its history was forgotten: which changes it had before ``was``
                        # is not known, so pages read before then cannot be brought up
                        # to date (they are read again).
                        self._history_from[tag] = was
                    while len(self._tag_history) > HISTORY_TAGS:
                        self._tag_history.popitem(last=False)
                else:
                    self._tag_history.move_to_end(tag)
                history.append(self._gen)
                self._tag_gen[tag] = self._gen
                for key in self._by_tag.pop(tag, ()):
                    entry = self._entries.pop(key, None)
                    if entry is not None:
                        self._untag(key, entry)
                        self._keep_stale(key, replace(entry, stale_since=time.monotonic()))
            if len(self._tag_gen) > 100_000:
                # Old generations only matter to pages read before them; keep the newest,
                # and read again any page read before the oldest kept.
                keep = sorted(self._tag_gen.items(), key=lambda kv: kv[1])[-50_000:]
                self._tag_gen = dict(keep)
                self._reliable_from = keep[0][1]
                self._history_from = {tag: gen for tag, gen in self._history_from.items()
                                      if gen >= self._reliable_from}

    def changes_since(self, entry: Entry, upto: int) -> list[object] | None:
        """The changes made to ``entry``'s tags after it was read, up to generation
        ``upto``, oldest first; None when one of them is not known (a change heard from
        another process, a vote, an edit) or no longer remembered."""
        with self._lock:
            if entry.gen < 0 or self._cleared_at > entry.gen or (
                    self._reliable_from > entry.gen):
                return None
            gens: set[int] = set()
            for tag in entry.tags:
                if self._tag_gen.get(tag, -1) <= entry.gen:
                    continue
                if self._history_from.get(tag, -1) > entry.gen:
                    return None  # changes made to it before its history began again
                history = self._tag_history.get(tag)
                if history is None or not history or history[0] > entry.gen + 1 and (
                        len(history) == history.maxlen):
                    return None  # invalidated more often than remembered
                gens.update(g for g in history if entry.gen < g <= upto)
            changes = []
            for gen in sorted(gens):
                change = self._changes.get(gen)
                if change is None:
                    return None
                changes.append(change)
            return changes

    def count_update(self) -> None:
        self.updates += 1
        PAGE_UPDATES.inc()

    def latest(self, key: CacheKey) -> Entry | None:
        """The newest page read for ``key``, current or stale, whatever its age."""
        return self._entries.get(key) or self._stale.get(key)

    def clear(self) -> None:
        with self._lock:
            self._gen += 1
            self._cleared_at = self._gen
            self._entries.clear()
            self._stale.clear()
            self._by_tag.clear()

    def __len__(self) -> int:
        return len(self._entries)

    # -- rebuilds --------------------------------------------------------------

    def stale(self, key: CacheKey) -> Entry | None:
        """The out-of-date page to give a reader while a rebuild of ``key`` runs: only
        when one runs, and only until ``stale_seconds`` after a write made it stale."""
        flight = self._flights.get(key)
        if flight is None or self._outdated(flight):
            return None
        entry = self._stale.get(key)
        if entry is None or time.monotonic() - entry.stale_since > self.stale_seconds:
            return None
        self.stale_served += 1
        STALE_SERVED.inc()
        return entry

    def _outdated(self, flight: _Flight) -> bool:
        """Whether a write was seen after the flight began: a reader who comes now must
        not be given its page (it may predate the write the reader saw)."""
        if self._cleared_at > flight.started_gen:
            return True
        if flight.tags is None:
            return self._gen > flight.started_gen
        return any(self._tag_gen.get(tag, -1) > flight.started_gen for tag in flight.tags)

    async def rebuild(self, key: CacheKey, build: Callable[[int], Awaitable[Entry]]) -> Entry:
        """The page for ``key`` from the rebuild under way, or from a new one.

        ``build(started_gen)`` reads and serialises the page (and ``put``s it). At most
        one build per key runs at a time in this process: a new one (needed when a write
        came after the running one began) starts when the running one ends."""
        flight = self._flights.get(key)
        if flight is None or self._outdated(flight):
            previous = flight.task if flight is not None else None
            known = self._entries.get(key) or self._stale.get(key)
            started_gen = self._gen

            async def run() -> Entry:
                if previous is not None and not previous.done():
                    await asyncio.wait([previous])
                self.rebuilds += 1
                PAGE_REBUILDS.inc()
                return await build(self._gen)

            task = asyncio.get_running_loop().create_task(run())
            flight = _Flight(task, started_gen, known.tags if known is not None else None)
            self._flights[key] = flight
            task.add_done_callback(lambda done: self._landed(key, flight, done))
        # Shielded: a reader who goes away does not cancel the others' page.
        return await asyncio.shield(flight.task)

    def _landed(self, key: CacheKey, flight: _Flight, task: asyncio.Task[Entry]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: the waiters raise it; none may be left


def thread_tags(site_id: str, thread_id: int | None, key: str) -> tuple[Tag, ...]:
    # ("pages", site): every thread page of the site, dropped together only when
    # something shown on all of them changes (an author's "Regular" badge).
    tags: list[Tag] = [("key", site_id, key), ("pages", site_id)]
    if thread_id is not None:
        tags.append(("thread", str(thread_id)))
    return tuple(tags)
