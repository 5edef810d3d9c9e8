"""The read pacer: at most N cached pages a turn of the event loop, the rest in order."""

from __future__ import annotations

import asyncio

from rostra.api.pacing import ReadPacer


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
