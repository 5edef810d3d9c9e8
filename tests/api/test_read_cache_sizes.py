"""The read cache at its edges: a cache of two pages keeps the two read last and still
never serves a page older than a write; with the cache off, every read is fresh."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, Reader, running_server


@pytest.fixture(scope="module")
def small() -> Iterator[LiveServer]:
    with running_server("sqlite", read_cache_entries=2) as live:
        yield live


@pytest.fixture(scope="module")
def uncached() -> Iterator[LiveServer]:
    with running_server("sqlite", read_cache_entries=0) as live:
        yield live


def _html(reader: Reader, thread: str) -> list[str]:
    return [c["html"] for c in reader.page(thread)["comments"]]


def test_a_cache_of_two_pages_keeps_the_two_read_last(small: LiveServer) -> None:
    site = small.add_site("small", ["https://news.example"])
    cache = small.app.app.state.cache
    with small.client() as http:
        ana = Reader("Ana", http, site)
        for thread in ("/one", "/two", "/three"):
            assert ana.post(thread, f"First on {thread}").status_code == 201
        for thread in ("/one", "/two", "/three"):
            assert _html(ana, thread) == [f"<p>First on {thread}</p>"]
        assert len(cache) == 2
        hits, misses = cache.hits, cache.misses
        assert _html(ana, "/three") == ["<p>First on /three</p>"]
        assert (cache.hits, cache.misses) == (hits + 1, misses)
        assert _html(ana, "/one") == ["<p>First on /one</p>"]  # dropped for /three: read again
        assert (cache.hits, cache.misses) == (hits + 1, misses + 1)
        assert len(cache) == 2
        assert ana.post("/one", "Second on /one").status_code == 201
        assert _html(ana, "/one") == ["<p>Second on /one</p>", "<p>First on /one</p>"]


def test_with_the_cache_off_every_read_is_fresh(uncached: LiveServer) -> None:
    site = uncached.add_site("uncached", ["https://news.example"])
    cache = uncached.app.app.state.cache
    with uncached.client() as http:
        ana = Reader("Ana", http, site)
        for n in range(3):
            assert ana.post("/story", f"Comment {n}").status_code == 201
            assert _html(ana, "/story") == [f"<p>Comment {i}</p>" for i in range(n, -1, -1)]
        assert len(cache) == 0
