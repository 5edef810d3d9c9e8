"""The per-site memory of rostra.services.site_cache: kept for its TTL (on a clock the
test moves), forgotten per site or all at once, and a load that a ``forget`` overtook is
not kept."""

from __future__ import annotations

from collections.abc import Callable

from rostra.services.site_cache import PerSite


class Counter:
    def __init__(self) -> None:
        self.loads: list[str] = []
        self.during: list[Callable[[], None]] = []  # run inside the next load

    def __call__(self, site_id: str) -> str:
        self.loads.append(site_id)
        while self.during:
            self.during.pop()()
        return f"{site_id}#{len(self.loads)}"


def test_it_keeps_a_value_for_its_ttl_and_forgets_it_on_demand() -> None:
    now = [100.0]
    load = Counter()
    cache = PerSite(load, ttl=5.0, clock=lambda: now[0])
    assert cache.get("a") == cache.get("a") == "a#1"
    assert cache.get("b") == "b#2"
    now[0] += 4.9
    assert cache.get("a") == "a#1"
    now[0] += 0.2
    assert cache.get("a") == "a#3"  # older than the TTL: read again
    cache.forget("a")
    assert cache.get("a") == "a#4" and cache.get("b") == "b#5"  # b's TTL ran out too
    cache.forget()
    assert cache.get("a") == "a#6" and cache.get("b") == "b#7"
    assert cache.get("a") == "a#6" and cache.get("b") == "b#7"


def test_a_load_that_a_forget_overtook_is_not_kept() -> None:
    load = Counter()
    cache = PerSite(load, ttl=3600.0)
    load.during.append(lambda: cache.forget("a"))
    assert cache.get("a") == "a#1"  # answered, but read before the change it was told of
    assert cache.get("a") == "a#2"
    assert cache.get("a") == "a#2"
    load.during.append(lambda: cache.forget())
    cache.forget("b")
    assert cache.get("b") == "b#3"
    assert cache.get("b") == "b#4"
    load.during.append(lambda: cache.forget("other"))
    assert cache.get("c") == "c#5"
    assert cache.get("c") == "c#5"  # another site's change does not matter
