"""The posting lane in a process of its own (``posting_process``, on under `rostra serve`).

Under a crowd of readers the thread lane (rostra.api.posting) gets the worker's GIL only
between the event loop's turns: measured under 64 readers of a 1,000-comment thread, a
post spent 5.5 ms in the lane for 2.6 ms of its CPU, and posts to another thread fell
from 670/s to 100–200/s. Moderation, rendering and the transaction need no event loop,
so here they run in a child process (``python -m rostra.posting_worker``) with its own
GIL; the worker keeps the HTTP side (validation, the answer) and its caches.

The child is another worker of the same deployment, as one of `rostra serve --workers
N` is: it reads the same settings and database and runs the same moderation; what
moderation reads and this worker hears has changed (bans, histories, sign-in, sites) it
forwards to the child in order with the posts. The child sends back, for each batch,
every post's answer and the events of the comments it stored; this worker then updates
its cached pages and open live streams from those events as if it had stored them
itself.

Frames on the socket pair: a 4-byte big-endian length, then a pickle (of plain tuples:
pickling the frozen dataclasses themselves cost a quarter of a millisecond a post).
This worker sends ``("post", job, NewComment's fields, RequestContext's fields)``,
``("changes", [rostra.store.changes.Change])`` (``ProcessLane.forward``) and
``("stop",)``; the child answers ``("ready",)`` once it can post, ``("ours",
[(thread_id, at, before, site_id, key)])`` before each commit and ``("done", [(job, outcome)], [event])``
after it, where an outcome is ``("ok", Posted's fields)``, ``("refused", status, code,
title, detail, extra)`` for an error a client is told about, or ``("failed", text)``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import pickle
import socket
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from rostra.api.metrics import POSTING_BATCH
from rostra.core.errors import RostraError
from rostra.core.models import CommentState
from rostra.moderation.decision import Action, Decision, Reason
from rostra.services.comments import (
    CommentEvent,
    EventKind,
    NewComment,
    Posted,
    RequestContext,
)

log = logging.getLogger("rostra.posting")

HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024
CHILD_MODULE = "rostra.posting_worker"
STOP_SECONDS = 30  # to finish the posts already sent, at shutdown
READY_SECONDS = 60  # for a child to start (its imports and its lifespan)
RESTART_PAUSE = 1.0  # between a child's death and the next start


class PostingUnavailable(RostraError):
    status = 503
    code = "posting_unavailable"
    title = "Service unavailable"


class RemoteRefusal(RostraError):
    """An error the child's services raised, as the client is to be told it."""

    def __init__(self, status: int, code: str, title: str, detail: str,
                 extra: dict[str, Any]) -> None:
        super().__init__(detail, **extra)
        self.status, self.code, self.title = status, code, title


def frame(message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def posted_wire(posted: Posted) -> tuple[Any, ...]:
    decision = posted.decision
    return (posted.comment, posted.edit_token, posted.editable_until, posted.voter_token,
            decision.action.value,
            [(r.check, r.code, r.message, r.score) for r in decision.reasons],
            decision.message, decision.facts, decision.told, posted.site_id,
            posted.edit_window_seconds)


def posted_from(wire: tuple[Any, ...]) -> Posted:
    (comment, edit_token, editable_until, voter_token, action, reasons, message, facts,
     told, site_id, edit_window_seconds) = wire
    decision = Decision(Action(action), tuple(Reason(*r) for r in reasons), message, facts,
                        told)
    return Posted(comment, edit_token, editable_until, voter_token, decision, site_id,
                  edit_window_seconds)


_NEW_FIELDS = tuple(f.name for f in fields(NewComment))
_CONTEXT_FIELDS = tuple(f.name for f in fields(RequestContext))


def post_wire(job: int, new: NewComment, ctx: RequestContext) -> tuple[Any, ...]:
    return ("post", job, tuple(getattr(new, name) for name in _NEW_FIELDS),
            tuple(getattr(ctx, name) for name in _CONTEXT_FIELDS))


def post_from(wire: tuple[Any, ...]) -> tuple[int, NewComment, RequestContext]:
    _, job, new, ctx = wire
    return job, NewComment(*new), RequestContext(*ctx)


def event_wire(event: CommentEvent) -> tuple[Any, ...]:
    return (event.kind.value, event.comment_id, event.thread_id, event.site_id,
            event.thread_key, event.parent_id,
            event.old_state.value if event.old_state is not None else None,
            event.new_state.value, event.actor, event.at, event.comment, event.retitled)


def event_from(wire: tuple[Any, ...]) -> CommentEvent:
    (kind, comment_id, thread_id, site_id, thread_key, parent_id, old_state, new_state,
     actor, at, comment, retitled) = wire
    return CommentEvent(
        EventKind(kind), comment_id, thread_id, site_id, thread_key, parent_id,
        CommentState(old_state) if old_state is not None else None, CommentState(new_state),
        actor, at, comment, retitled)


def outcome_of(result: Posted | BaseException) -> tuple[Any, ...]:
    """What the child sends for one post (exceptions do not pickle with their details)."""
    if isinstance(result, Posted):
        return ("ok", posted_wire(result))
    if isinstance(result, RostraError):
        return ("refused", result.status, result.code, result.title, result.detail,
                dict(result.extra))
    return ("failed", f"{type(result).__name__}: {result}")


def result_of(outcome: tuple[Any, ...]) -> Posted | BaseException:
    kind = outcome[0]
    if kind == "ok":
        return posted_from(outcome[1])
    if kind == "refused":
        return RemoteRefusal(*outcome[1:])
    return RuntimeError(f"the posting process failed a post: {outcome[1]}")


class _Link(asyncio.Protocol):
    """The worker's end of the socket pair: each frame is handled as soon as it is in,
    in the loop's I/O step (a reader task would cost every answer one more turn)."""

    def __init__(self, handle: Callable[[tuple[Any, ...]], None],
                 closed: asyncio.Future[None]) -> None:
        self.handle = handle
        self.closed = closed
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.buffer)
            if size > MAX_FRAME:
                log.error("a frame of %d bytes from the posting process", size)
                self.buffer.clear()
                assert self.transport is not None
                self.transport.close()
                return
            end = HEADER.size + size
            if len(self.buffer) < end:
                return
            body = bytes(self.buffer[HEADER.size:end])
            del self.buffer[:end]
            try:
                self.handle(pickle.loads(body))  # noqa: S301 - from our own child
            except Exception:  # a frame we cannot use must not stop the others
                log.exception("handling a frame from the posting process")

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


class ProcessLane:
    """The worker's side: sends posts to the child and settles each request's future."""

    def __init__(self, on_events: Callable[[list[CommentEvent]], None],
                 on_ours: Callable[[int, datetime, datetime | None, str, str], None],
                 forwarded: frozenset[str] = frozenset(),
                 argv: list[str] | None = None) -> None:
        self.on_events = on_events
        self.on_ours = on_ours
        # The kinds of change (rostra.store.changes) that moderating a post reads.
        self.forwarded = forwarded
        self.argv = argv or [sys.executable, "-m", CHILD_MODULE]
        self.in_flight = 0  # posts between their request and their answer
        self._jobs = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Posted]] = {}
        self._transport: asyncio.Transport | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._starting: asyncio.Lock | None = None
        self._died_at: float | None = None
        self._ready: asyncio.Event | None = None
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        return (self._process is not None and self._process.returncode is None
                and self._transport is not None and not self._transport.is_closing())

    async def start(self) -> None:
        """Start the child (or find it started); posts sent before it is ready wait."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self.running:
                return
            loop = self._loop = asyncio.get_running_loop()
            if self._died_at is not None:
                # A child that dies at once must not be restarted in a tight loop.
                await asyncio.sleep(max(0.0, self._died_at + RESTART_PAUSE - loop.time()))
            ours, theirs = socket.socketpair()
            try:
                process = await asyncio.create_subprocess_exec(
                    *self.argv, str(theirs.fileno()), pass_fds=(theirs.fileno(),),
                    stdin=asyncio.subprocess.DEVNULL)
            finally:
                theirs.close()
            closed: asyncio.Future[None] = loop.create_future()
            transport, _ = await loop.create_connection(
                lambda: _Link(self._handle, closed), sock=ours)
            self._process, self._transport = process, transport
            self._ready = ready = asyncio.Event()
            self._watch = watch = loop.create_task(self._watch_child(process, closed))
            # Posts sent meanwhile would wait in the socket; the server says it is up only
            # when posting is too (or the child failed, which its log says).
            waiting = loop.create_task(ready.wait())
            await asyncio.wait({waiting, watch}, timeout=READY_SECONDS,
                               return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if not ready.is_set() and not watch.done():
                log.error("the posting process is not ready after %d s", READY_SECONDS)

    async def post(self, new: NewComment, ctx: RequestContext) -> Posted:
        self.in_flight += 1
        try:
            if self._closing:  # a request that came in as the server stops
                raise PostingUnavailable("the server is stopping; please try again")
            if not self.running:
                await self.start()
            transport = self._transport
            if transport is None or transport.is_closing():
                raise PostingUnavailable("comments cannot be stored just now; "
                                         "please try again")
            job = next(self._jobs)
            future: asyncio.Future[Posted] = asyncio.get_running_loop().create_future()
            self._pending[job] = future
            transport.write(frame(post_wire(job, new, ctx)))
            return await future
        finally:
            self.in_flight -= 1

    def forward(self, changes: Sequence[Any]) -> None:
        """Pass on changes that moderation reads, made by this worker (its commits, on any
        thread) or heard from other processes. They go down the socket behind the posts
        already sent and ahead of later ones, so a ban or a site's new settings hold for
        every post that comes after the answer that made them. A child started later
        reads everything afresh."""
        wanted = [change for change in changes if change.kind in self.forwarded]
        loop = self._loop
        if not wanted or loop is None or loop.is_closed():
            return
        data = frame(("changes", wanted))
        try:
            here = asyncio.get_running_loop() is loop
        except RuntimeError:
            here = False
        if here:
            self._write(data)
        else:
            loop.call_soon_threadsafe(self._write, data)

    def _write(self, data: bytes) -> None:
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def _handle(self, message: tuple[Any, ...]) -> None:
        if message[0] == "ready":
            if self._ready is not None:
                self._ready.set()
            return
        if message[0] == "ours":
            # Before the commit: the change bus or the poll brings these changes back,
            # and must not send open pages a bare "changed" for them.
            for thread_id, at, before, site_id, key in message[1]:
                self.on_ours(thread_id, at, before, site_id, key)
            return
        _, outcomes, wired = message
        events = [event_from(wire) for wire in wired]
        POSTING_BATCH.observe(len(outcomes))
        for job, outcome in outcomes:
            future = self._pending.pop(job, None)
            if future is None or future.done():  # the client went away
                continue
            result = result_of(outcome)
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        if events:
            # The answers first (their callbacks were scheduled above), then the pages.
            asyncio.get_running_loop().call_soon(self._apply, events)

    def _apply(self, events: list[CommentEvent]) -> None:
        try:
            self.on_events(events)
        except Exception:  # the pages catch up at the next poll
            log.exception("updating pages after posts")

    async def _watch_child(self, process: asyncio.subprocess.Process,
                           closed: asyncio.Future[None]) -> None:
        await closed
        if process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
        await process.wait()
        if self._process is process:
            self._died_at = asyncio.get_running_loop().time()
            if self._transport is not None:
                self._transport.close()
            self._transport = None
            if not self._closing:
                log.error("the posting process stopped (exit status %s); it is started "
                          "again for the next post", process.returncode)
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(PostingUnavailable(
                    "the comment may not have been stored; please check and try again"))

    async def aclose(self) -> None:
        """Let the child finish the posts already sent, then stop it."""
        self._closing = True
        process, transport, watch = self._process, self._transport, self._watch
        if process is None or watch is None:
            return
        if transport is not None and not transport.is_closing():
            transport.write(frame(("stop",)))
        try:
            await asyncio.wait_for(asyncio.shield(watch), STOP_SECONDS)
        except TimeoutError:
            log.error("the posting process did not stop in %d s; killed", STOP_SECONDS)
            process.kill()
            await watch
