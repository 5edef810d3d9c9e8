"""One value per site, kept in this process's memory: what every widget load asks and
staff or readers seldom change (a site's own sign-in providers, whether any of its
readers has a passkey).

A value is trusted for ``ttl`` seconds; ``forget`` drops it at once. A change that
commits in this process forgets it through the database's after-commit hook, a change of
another process through the change bus (``ChangeKind.SIGN_IN``, see
``Services.forget_sign_in``); the TTL bounds what neither reaches (processes on SQLite
without Redis poll no such change). A load that began before a ``forget`` is not kept,
so the cache never holds what was read before a change it was told about.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

TTL = 5.0  # seconds a value is trusted, for changes no invalidation reaches
MAX_SITES = 10_000  # values kept; past that the cache starts again

Clock = Callable[[], float]


class PerSite(Generic[T]):
    """``load(site_id)``, remembered per site."""

    def __init__(self, load: Callable[[str], T], *, ttl: float = TTL,
                 clock: Clock = time.monotonic) -> None:
        self.ttl = ttl
        self._load = load
        self._clock = clock
        self._values: dict[str, tuple[float, tuple[int, int], T]] = {}
        self._generations: dict[str, int] = {}
        self._epoch = 0  # bumped when every site is forgotten
        self._lock = threading.Lock()

    def get(self, site_id: str) -> T:
        now = self._clock()
        with self._lock:
            generation = (self._epoch, self._generations.get(site_id, 0))
            found = self._values.get(site_id)
        if found is not None and found[1] == generation and now - found[0] < self.ttl:
            return found[2]
        value = self._load(site_id)
        with self._lock:
            if (self._epoch, self._generations.get(site_id, 0)) == generation:
                if len(self._values) >= MAX_SITES and site_id not in self._values:
                    self._values.clear()
                self._values[site_id] = (now, generation, value)
        return value

    def forget(self, site_id: str | None = None) -> None:
        """Drop the site's value (every site's with None); a load under way is not kept."""
        with self._lock:
            if site_id is None:
                self._epoch += 1
                self._values.clear()
                self._generations.clear()
            else:
                self._generations[site_id] = self._generations.get(site_id, 0) + 1
                self._values.pop(site_id, None)
