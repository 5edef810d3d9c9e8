"""Serialised responses of hot reads, dropped by tag when a write touches them.

Tags are ("thread", id) for a known thread, ("key", site, key) for a page nobody
commented on yet, and ("site", site) for counts. A page computed while a write was
being made is not stored (generation check), so no stale page outlives its write.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

Tag = tuple[str, ...]
CacheKey = tuple[str, bytes, str]


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    etag: str
    site_id: str
    tags: tuple[Tag, ...]


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


class ReadCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[CacheKey, Entry] = OrderedDict()
        self._by_tag: dict[Tag, set[CacheKey]] = {}
        self._tag_gen: dict[Tag, int] = {}
        self._gen = 0
        self._cleared_at = -1
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def generation(self) -> int:
        return self._gen

    def get(self, key: CacheKey) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def put(self, key: CacheKey, entry: Entry, started_gen: int) -> None:
        """Store unless one of the entry's tags was invalidated after ``started_gen``."""
        if self.capacity <= 0:
            return
        with self._lock:
            # Invalidations bump the generation first, so one made after the read began
            # carries a generation above ``started_gen``.
            if self._cleared_at > started_gen or any(
                self._tag_gen.get(tag, -1) > started_gen for tag in entry.tags
            ):
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._untag(key, old)
            self._entries[key] = entry
            for tag in entry.tags:
                self._by_tag.setdefault(tag, set()).add(key)
            while len(self._entries) > self.capacity:
                old_key, old_entry = self._entries.popitem(last=False)
                self._untag(old_key, old_entry)

    def _untag(self, key: CacheKey, entry: Entry) -> None:
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_tag[tag]

    def invalidate(self, tags: Iterable[Tag]) -> None:
        with self._lock:
            self._gen += 1
            for tag in tags:
                self._tag_gen[tag] = self._gen
                for key in self._by_tag.pop(tag, ()):
                    entry = self._entries.pop(key, None)
                    if entry is not None:
                        self._untag(key, entry)
            if len(self._tag_gen) > 100_000:
                # Old generations only matter to reads still in flight; keep the newest.
                keep = sorted(self._tag_gen.items(), key=lambda kv: kv[1])[-50_000:]
                self._tag_gen = dict(keep)

    def clear(self) -> None:
        with self._lock:
            self._gen += 1
            self._cleared_at = self._gen
            self._entries.clear()
            self._by_tag.clear()

    def __len__(self) -> int:
        return len(self._entries)


def thread_tags(site_id: str, thread_id: int | None, key: str) -> tuple[Tag, ...]:
    tags: list[Tag] = [("key", site_id, key)]
    if thread_id is not None:
        tags.append(("thread", str(thread_id)))
    return tuple(tags)
