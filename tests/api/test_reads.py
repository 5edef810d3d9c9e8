"""Counts, ETags and the read cache, including changes made by another worker."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    ORIGIN,
    LiveServer,
    Reader,
    _start_live_server,
    drop_database_connections,
    running_server,
)


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_it_counts_many_threads_in_one_request(ana: Reader, ben: Reader) -> None:
    for _ in range(3):
        ana.post("/count-a/", "x")
    ben.post("https://news.example/count-b/", "y")
    params = [("site", ana.site), ("thread", "/count-a/"), ("thread", "/count-b"),
              ("thread", "https://news.example/count-a?utm_medium=rss"), ("thread", "/none/")]
    response = ana.http.get("/api/counts", params=params)
    assert response.json() == {"counts": {"/count-a/": 3, "/count-b": 1,
                                          "https://news.example/count-a?utm_medium=rss": 3,
                                          "/none/": 0}}
    posted = ana.http.post("/api/counts", json={"site": ana.site, "threads": ["/count-a/"]})
    assert posted.json() == {"counts": {"/count-a/": 3}}


def test_it_answers_if_none_match_with_304_and_changes_etag_on_write(ana: Reader) -> None:
    ana.post("/etag/", "first")
    params = {"site": ana.site, "thread": "/etag/"}
    first = ana.http.get("/api/comments", params=params)
    etag = first.headers["etag"]
    again = ana.http.get("/api/comments", params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304
    ana.post("/etag/", "second")
    after = ana.http.get("/api/comments", params=params, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert after.json()["thread"]["total"] == 2


def test_it_serves_fresh_pages_after_every_kind_of_write(ana: Reader, ben: Reader) -> None:
    comment_id = ana.post("/fresh/", "v1").json()["comment"]["id"]
    assert ana.page("/fresh/")["comments"][0]["html"] == "<p>v1</p>"
    ana.http.patch(f"/api/comments/{comment_id}", json={"text": "v2"},
                   headers=ana.headers(comment_id))
    assert ana.page("/fresh/")["comments"][0]["html"] == "<p>v2</p>"
    ben.vote(comment_id, 1)
    assert ana.page("/fresh/")["comments"][0]["score"] == 1
    counts = ana.http.get("/api/counts", params={"site": ana.site, "thread": "/fresh/"}).json()
    ana.post("/fresh/", "another")
    after = ana.http.get("/api/counts", params={"site": ana.site, "thread": "/fresh/"}).json()
    assert after["counts"]["/fresh/"] == counts["counts"]["/fresh/"] + 1


def test_it_sees_writes_made_by_another_worker(tmp_path: Path) -> None:
    """Two servers on one SQLite file, as `rostra serve --workers 2` runs them."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    one, server_one = _start_live_server(url, "sqlite")
    two, server_two = _start_live_server(url, "sqlite")
    try:
        one.add_site("shared", [ORIGIN])
        with one.client() as a, two.client() as b:
            reader_a, reader_b = Reader("A", a, "shared"), Reader("B", b, "shared")
            reader_a.post("/shared/", "from worker one")
            wait_until(lambda: reader_b.page("/shared/")["thread"] is not None)
            assert reader_b.page("/shared/")["thread"]["total"] == 1  # now cached by two
            reader_a.post("/shared/", "again from worker one")
            wait_until(lambda: reader_b.page("/shared/")["thread"]["total"] == 2)
    finally:
        server_one.stop()
        server_two.stop()


def test_it_keeps_reads_fast_path_and_framework_answers_identical(ana: Reader,
                                                                  server: LiveServer) -> None:
    ana.post("/same/", "x")
    params = {"site": ana.site, "thread": "/same/"}
    cold = ana.http.get("/api/comments", params=params, headers={"Origin": ORIGIN})
    warm = ana.http.get("/api/comments", params=params, headers={"Origin": ORIGIN})
    assert cold.content == warm.content
    assert cold.headers["etag"] == warm.headers["etag"]
    assert warm.headers["access-control-allow-origin"] == ORIGIN
    assert warm.headers["x-request-id"]


def test_it_reads_big_threads_with_one_query_per_level(server: LiveServer,
                                                       http: httpx.Client) -> None:
    site = server.add_site("bigthread", [ORIGIN])
    reader = Reader("Ana", http, site)
    roots = [reader.post("/big/", f"root {n}").json()["comment"]["id"] for n in range(60)]
    for n, root in enumerate(roots[:30]):
        reply = reader.post("/big/", f"reply {n}", parent_id=root).json()["comment"]["id"]
        reader.post("/big/", f"deeper {n}", parent_id=reply)
    page = reader.page("/big/", limit="all")
    assert page["thread"]["total"] == 120
    assert len(page["comments"]) == 60
    assert sum(len(c["replies"]) for c in page["comments"]) == 30


def test_it_streams_live_updates_when_the_thread_changes(ana: Reader, ben: Reader,
                                                        server: LiveServer) -> None:
    import queue
    import threading

    ana.post("/live/", "first")
    lines: queue.Queue[str] = queue.Queue()

    def listen() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client, client.stream(
            "GET", "/api/events", params={"site": ana.site, "thread": "/live/"}
        ) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                lines.put(line)
                if line.startswith("event: changed"):
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert lines.get(timeout=10).startswith("retry:")
    ben.post("/live/", "a new comment while the page is open")
    deadline = time.monotonic() + 10
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if line.startswith("event: changed"):
            break
    listener.join(timeout=5)


def test_it_caches_pages_and_counts_again_after_a_write(ana: Reader, server: LiveServer) -> None:
    cache = server.app.cache
    params = {"site": ana.site, "thread": "/cached-again/"}
    ana.post("/cached-again/", "first")
    for path in ("/api/comments", "/api/counts"):
        # The change poll may drop the page once more just after the write; after that,
        # a read stores it and the next one is answered from memory.
        def second_read_hits(path: str = path) -> bool:
            ana.http.get(path, params=params)
            hits = cache.hits
            ana.http.get(path, params=params)
            return bool(cache.hits == hits + 1)

        wait_until(second_read_hits)


def test_it_never_stores_a_page_computed_before_a_write(server: LiveServer) -> None:
    from rostra.api.cache import Entry, ReadCache

    cache = ReadCache(10)
    started = cache.generation()
    cache.invalidate([("thread", "1")])  # a write lands while the page is computed
    cache.put(("/p", b"", ""), Entry(b"stale", '"e"', "s", (("thread", "1"),)), started)
    assert cache.get(("/p", b"", "")) is None
    fresh = cache.generation()
    cache.put(("/p", b"", ""), Entry(b"fresh", '"f"', "s", (("thread", "1"),)), fresh)
    assert cache.get(("/p", b"", "")) is not None


def test_it_tells_any_page_whether_it_may_embed_the_site(ana: Reader) -> None:
    foreign = "https://copycat.example"
    refused = ana.http.get("/api/origin", params={"site": ana.site}, headers={"Origin": foreign})
    assert refused.json() == {"site": ana.site, "origin": foreign, "allowed": False}
    assert refused.headers["access-control-allow-origin"] == "*"
    allowed = ana.http.get("/api/origin", params={"site": ana.site}, headers={"Origin": ORIGIN})
    assert allowed.json()["allowed"] is True


@pytest.mark.postgres
def test_a_page_read_right_after_postgresql_dropped_its_connections_is_answered() -> None:
    # Every connection closed at once, most of them used within the last second: the
    # pool sees that their sockets were closed, and a read that still meets one runs
    # again.
    with running_server("postgres", cache_poll_seconds=60) as server:
        site = server.add_site("rr" + secrets.token_hex(4), [ORIGIN])
        with server.client() as http:
            ana = Reader("Ana", http, site)
            assert ana.post("/restart/", "Before the restart.").status_code == 201
            assert len(ana.page("/restart/")["comments"]) == 1
            assert ana.post("/restart/", "Another, so the page is read again.").status_code == 201
            drop_database_connections(server, but_listeners=True)
            response = http.get("/api/comments", params={"site": site, "thread": "/restart/"},
                                headers={"Origin": ORIGIN})
            assert response.status_code == 200, response.text
            assert len(response.json()["comments"]) == 2
