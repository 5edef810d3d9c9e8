"""Live updates: Server-Sent Events telling open pages that their thread changed.

A comment posted through this worker reaches its thread's streams at once, in the event
itself (``comment``, as the thread's page shows it), so a page can show it without
fetching anything; a held comment is not sent (its author has it from posting). So do
comments taken down (``removed``), edits (``edited``) and votes (``votes``): from this
worker at commit, from the others over the change bus (``rostra.app``). Other changes,
and every change a worker hears of from its poll (while its bus is down), come as a bare
"changed": the page then fetches what it shows, each at its own moment.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Callable
from types import FrameType
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import StreamingResponse

from rostra.core.errors import InvalidInput, TooManyRequests
from rostra.core.thread_keys import ThreadKeyError, thread_key

HEARTBEAT_SECONDS = 25.0
HEARTBEAT = b": heartbeat\n\n"
END = b""  # put on a stream's queue: the stream ends (the server is stopping)
MAX_LISTENERS = 10_000

router = APIRouter(prefix="/api", tags=["read"])


class LiveHub:
    """Fan-out of "thread changed" to the streams open on this worker."""

    def __init__(self) -> None:
        self._streams: dict[tuple[str, str], set[asyncio.Queue[bytes]]] = {}
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        # News a thread holds back (``hold``) until it has done what must go first.
        self._held = threading.local()
        self.closing = False

    def count(self) -> int:
        return sum(len(s) for s in self._streams.values())

    def subscribe(self, site_id: str, key: str) -> asyncio.Queue[bytes]:
        if self.count() >= MAX_LISTENERS:
            raise TooManyRequests("too many open live streams on this server")
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=16)
        if self.closing:
            queue.put_nowait(END)
            return queue
        with self._lock:
            self._streams.setdefault((site_id, key), set()).add(queue)
        return queue

    def close(self) -> None:
        """End every open stream: the server is stopping. uvicorn waits for open
        responses before it stops, and a stream never ends by itself, so one open page
        kept a server from stopping at all. Pages reconnect after the stream's retry
        delay, to another server or to this one once it is back. Safe in a signal
        handler (it only schedules the work on the event loop)."""
        self.closing = True
        loop = self.loop
        if loop is None or loop.is_closed():
            return

        def end() -> None:
            with self._lock:
                queues = [q for streams in self._streams.values() for q in streams]
            for queue in queues:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(END)

        loop.call_soon_threadsafe(end)

    def unsubscribe(self, site_id: str, key: str, queue: asyncio.Queue[bytes]) -> None:
        with self._lock:
            queues = self._streams.get((site_id, key))
            if queues is not None:
                queues.discard(queue)
                if not queues:
                    del self._streams[(site_id, key)]

    def publish(self, site_id: str, key: str, data: dict[str, object]) -> None:
        """Tell every open stream of this thread; safe to call from any thread."""
        with self._lock:
            queues = list(self._streams.get((site_id, key), ()))
        if not queues or self.loop is None:
            return
        # Encoded once for every stream: thousands of pages may be open on one thread.
        message = b"event: changed\ndata: " + orjson.dumps(data) + b"\n\n"

        def deliver() -> None:
            for queue in queues:
                if queue.full():  # a slow reader loses the oldest news, and refetches
                    queue.get_nowait()
                queue.put_nowait(message)

        held: list[Callable[[], None]] | None = getattr(self._held, "news", None)
        if held is not None:
            held.append(deliver)
        else:
            self.loop.call_soon_threadsafe(deliver)

    def hold(self) -> None:
        """Keep what this thread publishes until ``release``. The posting lane holds the
        news of a batch until it has handed the event loop the batch's answers: the
        answers then go out before thousands of streams wake (a post waited ~250 ms
        behind 5,000 of them)."""
        self._held.news = []

    def release(self) -> None:
        held: list[Callable[[], None]] = getattr(self._held, "news", None) or []
        self._held.news = None
        if self.loop is not None:
            for deliver in held:
                self.loop.call_soon_threadsafe(deliver)

    def beat(self) -> None:
        """A heartbeat on every open stream (on the event loop): proxies keep quiet
        streams open. One timer for all streams, not one per stream and message."""
        with self._lock:
            queues = [q for streams in self._streams.values() for q in streams]
        for queue in queues:
            if not queue.full():
                queue.put_nowait(HEARTBEAT)

    async def beat_forever(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self.beat()


def close_on_stop_signals(hub: LiveHub) -> Callable[[], None]:
    """Have SIGTERM and SIGINT end ``hub``'s streams, then do what they did before (the
    server's own handler: uvicorn's stops accepting and waits for open responses).
    Returns what puts the previous handlers back. Only a server run in the main thread
    hears signals, and only one that handles them in Python is chained."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    chained: dict[int, Callable[[int, FrameType | None], Any]] = {
        sig: handler for sig, handler in previous.items() if callable(handler)}

    def stop(sig: int, frame: FrameType | None) -> None:
        hub.close()
        chained[sig](sig, frame)

    for sig in chained:
        signal.signal(sig, stop)

    def restore() -> None:
        for sig, handler in chained.items():
            signal.signal(sig, handler)

    return restore


@router.get("/events", summary="Live updates of a thread (Server-Sent Events)",
            response_class=StreamingResponse)
async def events(
    request: Request,
    thread: Annotated[str, Query(max_length=1000)],
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> StreamingResponse:
    # GET /api/events — `event: changed` whenever the thread gets a new comment, an
    # edit, a vote or a moderation decision. Its data carries what changed where it
    # can (`comment`, `removed`, `edited`, `votes`); otherwise the page fetches.
    hub: LiveHub = request.app.state.live
    services = request.app.state.services
    resolved = services.sites.resolve(site, request.headers.get("origin"))
    try:
        key = thread_key(thread)
    except ThreadKeyError as exc:
        raise InvalidInput(f"thread: {exc}") from None
    hub.loop = asyncio.get_running_loop()
    queue = hub.subscribe(resolved.id, key)

    async def stream() -> AsyncIterator[bytes]:
        # No timeout per message (a task and a timer each, times thousands of pages):
        # the hub sends heartbeats, and the response ends this generator when the
        # client goes away.
        try:
            yield b"retry: 5000\n: connected\n\n"
            while message := await queue.get():
                yield message
        finally:
            hub.unsubscribe(resolved.id, key, queue)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
