"""Pacing cached reads so that a crowd of readers cannot starve everything else.

A cached page is written in one step of the event loop, and a turn of the loop runs
every step that is ready. Under 64 readers of a 475 KB page a turn wrote dozens of
pages, and a post, which needs three turns (its request, the lane's answer, its
response), waited through all of them: posts to a quiet thread fell from 930/s to
about 100/s. The pacer lets at most ``per_turn`` pages be written in a turn; readers
past that wait, in order, for the next turn. A turn is short again, so a post's three
turns are too.

Pacing has a price: a turn's fixed work is shared by 4 readers instead of dozens (64
readers alone lost ~40 % of their reads when always paced). So it is on only while a
write (a post, a vote, an edit) is on its way through the loop (``busy``), and when
readers are few nobody waits.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

READS_PER_TURN = 4


class ReadPacer:
    """At most ``per_turn`` cached pages written per turn of one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, per_turn: int = READS_PER_TURN,
                 busy: Callable[[], bool] | None = None) -> None:
        self.loop = loop
        self.per_turn = per_turn
        # Pace only while this says something waits on the loop (a write): readers alone
        # lose nothing to pacing (it cost them ~40 % with 64 of them on one page).
        self.busy = busy
        self._left = per_turn
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._turn_scheduled = False

    def admit(self) -> bool:
        """True when a page may be written now; otherwise call ``wait_turn``."""
        if self.busy is not None and not self._waiting and not self.busy():
            return True
        if self._left > 0 and not self._waiting:
            self._left -= 1
            self._schedule()
            return True
        return False

    async def wait_turn(self) -> None:
        future = self.loop.create_future()
        self._waiting.append(future)
        self._schedule()
        await future

    def _schedule(self) -> None:
        # The budget comes back at the next turn (a callback scheduled during a turn
        # runs in the next one); with nothing admitted and nobody waiting, no callback
        # is scheduled, so an idle loop stays idle.
        if not self._turn_scheduled:
            self._turn_scheduled = True
            self.loop.call_soon(self._turn)

    def _turn(self) -> None:
        self._turn_scheduled = False
        self._left = self.per_turn
        while self._waiting and self._left > 0:
            future = self._waiting.popleft()
            if not future.done():  # its reader went away
                future.set_result(None)
                self._left -= 1
        if self._waiting or self._left < self.per_turn:
            self._schedule()
