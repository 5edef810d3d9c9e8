"""A cached page out of date is brought up to date from the changes made since it was
read only when every one of them is known; when the cache has forgotten some (it keeps
the history of its 10,000 most recently changed tags, and the generations of 100,000),
the page is read again. It used to come back with some changes missing, or none, and
was kept as current until the next full read: a new comment missing, a removed one
still shown."""

from __future__ import annotations

from rostra.api.cache import HISTORY_TAGS, Entry, ReadCache

THREAD = ("thread", "1")


def _page(cache: ReadCache) -> Entry:
    """A page of the thread, as read now."""
    return Entry(b"page", '"e"', "s", (THREAD,), gen=cache.generation())


def test_a_page_older_than_its_tags_remembered_history_is_read_again() -> None:
    cache = ReadCache(10)
    page = _page(cache)
    cache.invalidate([THREAD], change="comment A")
    cache.invalidate([THREAD], change="comment B")
    for n in range(HISTORY_TAGS + 1):  # many other threads change: this one's history goes
        cache.invalidate([("thread", f"other {n}")], change=f"elsewhere {n}")
    cache.invalidate([THREAD], change="comment C")
    assert cache.changes_since(page, cache.generation()) is None
    # A page read after the history began again is brought up to date as before.
    later = _page(cache)
    cache.invalidate([THREAD], change="comment D")
    assert cache.changes_since(later, cache.generation()) == ["comment D"]


def test_a_page_older_than_the_remembered_generations_is_read_again() -> None:
    cache = ReadCache(10)
    page = _page(cache)
    started = cache.generation()
    cache.invalidate([THREAD], change="comment A")
    for n in range(100_001):  # so many tags changed that the oldest generations go
        cache.invalidate([("thread", f"other {n}")])
    assert cache.changes_since(page, cache.generation()) is None
    # Nor is a page whose read began before then stored as current.
    assert not cache.put(("/p", b"", ""), Entry(b"old", '"o"', "s", (THREAD,)), started)
