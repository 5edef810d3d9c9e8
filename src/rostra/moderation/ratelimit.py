"""Rate limiting: moving windows, in this process's memory, or in Redis (shared by every
worker and server, through the `limits` library) when ``redis_url`` is set.

Rates are written in the `limits` notation ("10/minute;100/hour"). In memory the
windows are our own: `limits`' memory storage starts a timer thread that rescans every
key each 10 ms, which costs more than the rest of the pipeline under a busy site.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from functools import lru_cache

import redis
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from rostra.config import shown_url

SWEEP_EVERY = 10_000  # hits between sweeps of idle keys (bounds memory)
# While Redis is unreachable, limits are counted in this process, and Redis is tried
# again after this long (not on every post: an address that does not answer would cost
# each one a connect timeout).
REDIS_RETRY_SECONDS = 5.0

log = logging.getLogger("rostra.ratelimit")
REDIS_ERRORS = (redis.RedisError, OSError)


@lru_cache(maxsize=512)
def rates(spec: str) -> tuple[tuple[int, int], ...]:
    """Parsed "10/minute;100/hour" as (amount, seconds) pairs; an empty spec: none."""
    if not spec.strip():
        return ()
    return tuple((item.amount, item.get_expiry()) for item in parse_many(spec))


class LocalWindows:
    """Moving windows of event times per key, in memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.events: dict[str, deque[float]] = {}
        self.lock = threading.Lock()
        self.hits = 0
        self.longest = 3600

    def hit(self, limits: tuple[tuple[int, int], ...], keys: list[str]) -> int | None:
        now = self.clock()
        with self.lock:
            for amount, seconds in limits:
                for key in keys:
                    events = self.events.get(key)
                    if not events:
                        continue
                    # Events newer than the window start, counted from the newest end.
                    start = now - seconds
                    inside = [t for t in list(events)[-amount:] if t > start]
                    if len(inside) >= amount:
                        return max(1, math.ceil(inside[0] + seconds - now))
            longest = max(seconds for _, seconds in limits)
            self.longest = max(self.longest, longest)
            cap = max(amount for amount, _ in limits)
            for key in keys:
                events = self.events.setdefault(key, deque())
                events.append(now)
                # Only the newest `cap` events within the longest window can matter.
                while len(events) > cap or events[0] <= now - longest:
                    events.popleft()
            self._maybe_sweep(now)
        return None

    def count(self, key: str, seconds: int) -> int:
        now = self.clock()
        with self.lock:
            events = self.events.get(key)
            return sum(1 for t in events if t > now - seconds) if events else 0

    def record(self, key: str, seconds: int) -> None:
        now = self.clock()
        with self.lock:
            events = self.events.setdefault(key, deque())
            events.append(now)
            while events and events[0] <= now - max(seconds, 60):
                events.popleft()
            self._maybe_sweep(now)

    def _maybe_sweep(self, now: float) -> None:
        self.hits += 1
        if self.hits % SWEEP_EVERY:
            return
        horizon = now - self.longest
        for key in [k for k, v in self.events.items() if not v or v[-1] <= horizon]:
            del self.events[key]


class RateLimiter:
    """Counts events per key; ``hit`` says how long to wait when a limit is reached.

    With Redis, counts are shared by every process and server. While it is unreachable
    they are kept in this process (as without ``redis_url``) rather than failing every
    post, vote and subscription; once it answers again they are shared again."""

    def __init__(self, redis_url: str = "") -> None:
        self.local: LocalWindows | None = None
        self.redis_url = redis_url
        if redis_url:
            storage = storage_from_string(redis_url)
            assert isinstance(storage, Storage)  # a sync URL gives a sync storage
            self.limiter = MovingWindowRateLimiter(storage)
            self._meanwhile = LocalWindows()
            self._redis_down_until: float | None = None
        else:
            self.local = LocalWindows()

    def _windows(self) -> LocalWindows | None:
        """The windows in this process to count with, or None to count in Redis."""
        if self.local is not None:
            return self.local
        until = self._redis_down_until
        if until is not None:
            if time.monotonic() < until:
                return self._meanwhile
            self._redis_down_until = None
        return None

    def _redis_failed(self, exc: Exception) -> LocalWindows:
        if self._redis_down_until is None:
            log.warning("rate limits: Redis at %s is unreachable; counting in this process "
                        "until it is back", shown_url(self.redis_url),
                        extra={"error": str(exc)})
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        return self._meanwhile

    def hit(self, spec: str, namespace: str, keys: list[str]) -> int | None:
        """Count one event for every key under every rate of ``spec``.

        Returns None when allowed, else the seconds until the event would be allowed
        (and then counts nothing, so a blocked flood does not extend its own block).
        """
        limits = rates(spec)
        if not limits or not keys:
            return None
        windows = self._windows()
        if windows is None:
            try:
                return self._hit_redis(spec, namespace, keys)
            except REDIS_ERRORS as exc:
                windows = self._redis_failed(exc)
        return windows.hit(limits, [f"{namespace}:{k}" for k in keys])

    def _hit_redis(self, spec: str, namespace: str, keys: list[str]) -> int | None:
        items = _items(spec)
        for item in items:
            for key in keys:
                if not self.limiter.test(item, namespace, key):
                    stats = self.limiter.get_window_stats(item, namespace, key)
                    return max(1, math.ceil(stats.reset_time - time.time()))
        for item in items:
            for key in keys:
                self.limiter.hit(item, namespace, key)
        return None

    def count(self, namespace: str, key: str, per_seconds: int = 60) -> int:
        """Events counted under ``key`` by ``record`` in the last ``per_seconds``."""
        windows = self._windows()
        if windows is None:
            try:
                item = _counter(per_seconds)
                stats = self.limiter.get_window_stats(item, namespace, key)
                return int(item.amount - stats.remaining)
            except REDIS_ERRORS as exc:
                windows = self._redis_failed(exc)
        return windows.count(f"{namespace}:{key}", per_seconds)

    def record(self, namespace: str, key: str, per_seconds: int = 60) -> None:
        """Count one event for ``count`` (no limit applies)."""
        windows = self._windows()
        if windows is None:
            try:
                self.limiter.hit(_counter(per_seconds), namespace, key)
                return
            except REDIS_ERRORS as exc:
                windows = self._redis_failed(exc)
        windows.record(f"{namespace}:{key}", per_seconds)


@lru_cache(maxsize=512)
def _items(spec: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(spec))


@lru_cache(maxsize=8)
def _counter(per_seconds: int) -> RateLimitItem:
    return parse_many(f"1000000 per {per_seconds} second")[0]
