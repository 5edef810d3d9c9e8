"""The posting process: ``python -m rostra.posting_worker FD``, started by a `rostra serve`
worker (rostra.api.posting_process explains why and the frames on the socket FD).

It is a worker of the deployment that serves no HTTP: it builds the same app from the
same settings (``role="posting"``: no pages to keep up to date), runs its lifespan (its
outbox sender and pruning run; it reloads site settings every ``cache_poll_seconds``),
loads what moderation needs, and stores the posts it is sent in batches, one
transaction each, as the thread lane does. What else moderation reads and changes
elsewhere (bans, authors' histories, sign-in, sites) it learns from its worker, in order
with the posts, rather than from the change bus.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import socket
import sys
import threading
from collections import deque
from typing import Any

from rostra import logs
from rostra.api.posting_process import HEADER, event_wire, frame, outcome_of, post_from
from rostra.app import create_app
from rostra.config import load_settings
from rostra.core.errors import RostraError
from rostra.cross_worker import forget_what_moderation_read
from rostra.services.comments import CommentEvent
from rostra.services.container import Services
from rostra.services.moderation_views import views_of
from rostra.store.changes import Change

log = logging.getLogger("rostra.posting")

MAX_BATCH = 32
READ_SIZE = 1 << 16


MORE = ("more",)  # nothing more has come in yet


class FrameReader:
    """Frames from the worker, read by the lane itself: blocking for the first of a
    batch, then whatever else has already come (one thread, no hand-offs)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.ready: deque[tuple[Any, ...]] = deque()
        self.closed = False

    def next(self, *, block: bool) -> tuple[Any, ...] | None:
        """The next frame; None once the worker has gone; MORE when not blocking and
        nothing is there."""
        while not self.ready:
            if self.closed:
                return None
            try:
                data = self.sock.recv(READ_SIZE) if block else self.sock.recv(
                    READ_SIZE, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return MORE
            except OSError:
                data = b""
            if not data:
                self.closed = True
                return None
            self.buffer += data
            self._split()
        return self.ready.popleft()

    def _split(self) -> None:
        while len(self.buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.buffer)
            end = HEADER.size + size
            if len(self.buffer) < end:
                return
            self.ready.append(pickle.loads(self.buffer[HEADER.size:end]))  # noqa: S301 - ours
            del self.buffer[:end]


class PostingChild:
    def __init__(self, sock: socket.socket, services: Services) -> None:
        self.sock = sock
        self.services = services
        self.views = views_of(services.db)
        self.comments = comments = services.comments
        self.frames = FrameReader(sock)
        self.events: list[CommentEvent] = []
        self.lane_thread: int | None = None
        comments.committing.append(self._committing)
        comments.listeners.append(self._stored)

    def _committing(self, events: list[CommentEvent]) -> None:
        if threading.get_ident() == self.lane_thread:
            self._send(("ours", [(e.thread_id, e.at, e.before, e.site_id, e.thread_key)
                                 for e in events if e.at is not None]))

    def _stored(self, event: CommentEvent) -> None:
        if threading.get_ident() == self.lane_thread:
            self.events.append(event)

    def _send(self, message: Any) -> None:
        self.sock.sendall(frame(message))

    def ready(self) -> None:
        self._send(("ready",))

    def lane(self) -> None:
        """Store the posts in batches until told to stop or the worker goes; changes
        take effect between the posts they came between."""
        self.lane_thread = threading.get_ident()
        stop = False
        while not stop:
            message = self.frames.next(block=True)
            batch: list[tuple[Any, ...]] = []
            while message is not None and message[0] == "post":
                batch.append(post_from(message))
                if len(batch) >= MAX_BATCH:
                    break
                message = self.frames.next(block=False)
            if batch:
                self._post(batch)
            if message is None or message[0] == "stop":
                stop = True
            elif message[0] == "changes":
                self._forget(message[1])

    def _forget(self, changes: list[Change]) -> None:
        """What the worker's changes make stale here (the parts moderating a post reads)."""
        try:
            for change in changes:
                forget_what_moderation_read(self.services, self.views, change)
        except Exception:  # the views' own time limits catch up
            log.exception("applying changes in the posting process")

    def _post(self, batch: list[tuple[Any, ...]]) -> None:
        self.events = []
        try:
            results: list[Any] = self.comments.post_many(
                [(new, ctx) for _, new, ctx in batch])
        except Exception as exc:  # noqa: BLE001 - every request gets an answer
            results = [exc] * len(batch)
        for failure in {id(r): r for r in results if isinstance(r, Exception)
                        and not isinstance(r, RostraError)}.values():
            # A fault of ours: its traceback is logged here (the worker answers 500).
            log.error("storing a post failed", exc_info=failure)
        outcomes = [(job, outcome_of(result))
                    for (job, _, _), result in zip(batch, results, strict=True)]
        try:
            self._send(("done", outcomes, [event_wire(event) for event in self.events]))
        except OSError:
            pass  # the worker went away; its requests are answered there
        self.events = []


def warm(app: Any) -> None:
    """Load what the first post would otherwise wait for (the language model, the
    classifier's when it is on) before the worker is told this process is ready."""
    from rostra.moderation.checks.toxicity import ToxicityCheck
    from rostra.moderation.model import SiteAwareClassifier, language_detector

    text = "A first comment, to load what moderation reads."
    language_detector()(text)
    runtime = getattr(app.state, "moderation", None)
    if runtime is None:
        return
    for check in runtime.engine.pipeline.checks:
        if isinstance(check, ToxicityCheck) and isinstance(check.classifier,
                                                           SiteAwareClassifier):
            check.classifier.classifier.assess(text)


async def _serve(child: PostingChild, app: Any) -> None:
    async with app.router.lifespan_context(app):
        try:
            await asyncio.get_running_loop().run_in_executor(None, warm, app)
        except Exception:  # the first post loads it then
            log.exception("warming up the posting process")
        child.ready()
        await asyncio.get_running_loop().run_in_executor(None, child.lane)


def run_ahead(levels: int) -> bool:
    """Take ``levels`` nice levels of priority over the worker that started this process
    (under 64 readers a batch spent half its time waiting for a core). Called before any
    thread starts: on Linux a priority is each thread's, and new threads inherit it."""
    if levels <= 0:
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, 0, os.getpriority(os.PRIO_PROCESS, 0) - levels)
    except OSError:
        log.info("the posting process runs at its worker's priority: running %d nice "
                 "levels ahead needs root, CAP_SYS_NICE or a nice limit (posting_priority)",
                 levels)
        return False
    return True


def main(argv: list[str]) -> int:
    # Ctrl-C in a terminal, or a service manager stopping the server's process group,
    # signals every process in it: the child finishes the posts it was sent and stops
    # when its worker says so or goes away, never in the middle of a batch.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)
    sock = socket.socket(fileno=int(argv[1]))
    settings = load_settings()
    logs.configure(settings.log_level, settings.log_format)
    run_ahead(settings.posting_priority)
    front = create_app(settings, run_migrations=False, role="posting")
    child = PostingChild(sock, front.app.state.services)
    asyncio.run(_serve(child, front.app))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
