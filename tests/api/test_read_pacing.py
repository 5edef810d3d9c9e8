"""The read pacer: at most N cached pages a turn of the event loop, the rest in order."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import urlencode

import orjson

from rostra.api.pacing import READS_PER_TURN, ReadPacer
from tests.conftest import ORIGIN, LiveServer, Reader


async def _turns(n: int) -> None:
    # One sleep(0) lets the loop finish the turn it is in and run one more.
    for _ in range(n):
        await asyncio.sleep(0)


def test_a_few_readers_never_wait() -> None:
    async def main() -> list[bool]:
        pacer = ReadPacer(asyncio.get_running_loop(), per_turn=3)
        admitted = [pacer.admit() for _ in range(3)]
        await _turns(2)
        # A new turn: the budget is back.
        admitted += [pacer.admit() for _ in range(3)]
        return admitted

    assert asyncio.run(main()) == [True] * 6


def test_a_crowd_is_served_per_turn_in_order() -> None:
    async def main() -> list[list[int]]:
        loop = asyncio.get_running_loop()
        pacer = ReadPacer(loop, per_turn=2)
        served: list[int] = []
        by_turn: list[list[int]] = []

        async def reader(i: int) -> None:
            if not pacer.admit():
                await pacer.wait_turn()
            served.append(i)

        tasks = [loop.create_task(reader(i)) for i in range(7)]
        for _ in range(12):
            before = len(served)
            await asyncio.sleep(0)
            if len(served) > before:
                by_turn.append(served[before:])
        await asyncio.gather(*tasks)
        return by_turn

    turns = asyncio.run(main())
    assert [i for turn in turns for i in turn] == list(range(7))  # first come, first served
    assert max(len(turn) for turn in turns) == 2
    assert len(turns) == 4


def test_a_reader_who_went_away_gives_its_turn_to_the_next() -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        pacer = ReadPacer(loop, per_turn=1)
        served: list[str] = []

        async def reader(name: str) -> None:
            if not pacer.admit():
                await pacer.wait_turn()
            served.append(name)

        first = loop.create_task(reader("first"))
        gone = loop.create_task(reader("gone"))
        last = loop.create_task(reader("last"))
        await asyncio.sleep(0)  # all three ran up to their wait (or were admitted)
        gone.cancel()
        await asyncio.gather(first, last)
        return served

    assert asyncio.run(main()) == ["first", "last"]


def test_an_idle_pacer_schedules_nothing() -> None:
    async def main() -> tuple[bool, bool]:
        pacer = ReadPacer(asyncio.get_running_loop(), per_turn=2)
        pacer.admit()
        await _turns(3)
        # The budget is back and no callback keeps the loop turning.
        return pacer._turn_scheduled, pacer.admit()

    assert asyncio.run(main()) == (False, True)


def test_it_paces_only_while_something_waits_on_the_loop() -> None:
    async def main() -> tuple[list[bool], list[bool]]:
        posting = [False]
        pacer = ReadPacer(asyncio.get_running_loop(), per_turn=2, busy=lambda: posting[0])
        alone = [pacer.admit() for _ in range(5)]  # readers alone: all at once
        await _turns(2)
        posting[0] = True  # a post is on its way: two a turn again
        with_post = [pacer.admit() for _ in range(3)]
        return alone, with_post

    assert asyncio.run(main()) == ([True] * 5, [True, True, False])


def test_reads_are_paced_while_a_vote_is_on_its_way(live_server: LiveServer) -> None:
    """A vote (any write the Front hands to the app) needs turns of the loop as a post
    does: while one is on its way, a crowd of readers of a cached page is written four a
    turn. Unpaced, a turn wrote dozens of 475 KB pages, and under 20 votes/s the readers'
    p99 was 1.4 s and a vote took 50 ms (bench/server_bench.py --mixed)."""
    site = live_server.add_site("t" + secrets.token_hex(5), [ORIGIN])
    with live_server.client() as http:
        _paced_reads_while_voting(live_server, site, Reader("Ana", http, site),
                                  Reader("Ben", http, site))


def _paced_reads_while_voting(live_server: LiveServer, site: str, ana: Reader,
                              ben: Reader) -> None:
    comment_id = ana.post("/paced/", "A comment to vote on.").json()["comment"]["id"]
    query = urlencode({"site": site, "thread": "/paced/"}).encode()
    assert ben.http.get(f"/api/comments?{query.decode()}", headers={"Origin": ORIGIN}
                        ).status_code == 200  # now cached
    front = live_server.app
    vote_body = orjson.dumps({"value": 1})

    def scope(method: str, path: str, query_string: bytes = b"",
              headers: tuple[tuple[bytes, bytes], ...] = ()) -> dict[str, Any]:
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                "root_path": "", "query_string": query_string, "client": ("127.0.0.1", 5),
                "server": ("127.0.0.1", 80),
                "headers": [(b"host", b"127.0.0.1"), (b"origin", ORIGIN.encode()), *headers]}

    async def main() -> tuple[list[int], int]:
        loop = asyncio.get_running_loop()
        turn = [0]
        stop = asyncio.Event()

        async def count_turns() -> None:
            while not stop.is_set():
                turn[0] += 1
                await asyncio.sleep(0)

        body_sent = asyncio.Event()

        async def vote_receive() -> dict[str, Any]:
            await body_sent.wait()  # the vote's body is still coming in
            return {"type": "http.request", "body": vote_body, "more_body": False}

        vote_status: list[int] = []

        async def vote_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                vote_status.append(message["status"])

        async def nothing() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        sent_in: list[int] = []

        async def read_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                sent_in.append(turn[0])

        counter = loop.create_task(count_turns())
        voting = loop.create_task(front(
            scope("POST", f"/api/comments/{comment_id}/vote",
                  headers=((b"content-type", b"application/json"),
                           (b"content-length", str(len(vote_body)).encode()),
                           (b"x-forwarded-for", ben.ip.encode()))),
            vote_receive, vote_send))
        await asyncio.sleep(0)
        await asyncio.gather(*(front(scope("GET", "/api/comments", query), nothing, read_send)
                               for _ in range(12)))
        body_sent.set()
        await voting
        stop.set()
        await counter
        return sent_in, vote_status[0]

    sent_in, vote_status = asyncio.run(main())
    assert len(sent_in) == 12
    assert max(sent_in.count(t) for t in set(sent_in)) == READS_PER_TURN
    assert vote_status == 200
