"""create_app(settings): wiring only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import FastAPI, Request
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response

from rostra import __version__
from rostra.api import api_docs, openapi, problems
from rostra.api.account import router as account_router
from rostra.api.cache import PageChange, ReadCache, Tag, VoteCounts
from rostra.api.email_sign_in import router as email_sign_in_router
from rostra.api.front import MAX_BODY, Front
from rostra.api.live import LiveHub, close_on_stop_signals
from rostra.api.live import router as live_router
from rostra.api.metrics import check_metrics_access, exposition
from rostra.api.passkey_sign_in import router as passkey_sign_in_router
from rostra.api.posting import Lane, PostEndpoint, PostingLane
from rostra.api.posting_process import ProcessLane
from rostra.api.routes import author, read, write
from rostra.api.signin import router as signin_router
from rostra.config import Settings, check_serving
from rostra.core.models import CommentState
from rostra.services.comments import CommentEvent, EventKind
from rostra.services.container import Services
from rostra.services.moderation_views import ModerationViews, views_of
from rostra.services.oidc import OidcClient
from rostra.store import migrate, queries
from rostra.store.changes import Change, ChangeKind, stamp_before
from rostra.store.db import Database, may_run_again

log = logging.getLogger("rostra")

# Changes made by other workers are seen through threads.updated_at; clocks and commit
# order can put a row slightly in the past, so each poll looks back this far.
POLL_SLACK = timedelta(seconds=2)
# While the change bus is connected, polling only catches what it could not carry (what
# was written while it reconnected, or by a process without a bus).
BUS_POLL_SECONDS = 5.0
# ... and leaves to the bus the changes of this last moment, whose messages may be on
# their way (SQLite's bus reads its table every 0.1 s).
BUS_GRACE = timedelta(seconds=2)
# How long a thread that wants the GIL waits before the running one must give it up
# (Python's default is 5 ms). The posting lane and page rebuilds give the GIL up on every
# SQLite call (every row of a page), and with a busy event loop each of those cost them
# up to a whole interval: a 1,000-comment page took seconds to rebuild under 64 readers,
# and a post tens of milliseconds. A short interval bounds each wait.
GIL_SWITCH_SECONDS = 0.0002


# What moderating a post reads and a change makes stale: a posting process hears of
# these from its worker, in order with the posts (so a ban answered before a post holds
# for that post), and acts on them with ``forget_what_moderation_read``.
POSTING_READS: frozenset[str] = frozenset({
    ChangeKind.BANS, ChangeKind.HISTORY, ChangeKind.SIGN_IN, ChangeKind.SITES,
    ChangeKind.RESYNC})


def forget_what_moderation_read(services: Services, views: ModerationViews,
                                change: Change) -> None:
    """Drop what this process remembers that ``change`` (one of POSTING_READS) made
    stale: a site's bans, an author's history, how its readers sign in, the sites."""
    if change.kind is ChangeKind.BANS:
        views.bans.invalidate(change.site_id)
    elif change.kind is ChangeKind.HISTORY:
        views.histories.invalidate(change.site_id, change.key)
    elif change.kind is ChangeKind.SIGN_IN:
        services.forget_sign_in(change.site_id)
    elif change.kind is ChangeKind.SITES:
        services.sites.reload()
    elif change.kind is ChangeKind.RESYNC:
        services.sites.reload()
        services.forget_sign_in()
        for site in services.sites.list():
            views.bans.invalidate(site.id)


class CrossWorkerInvalidation:
    """Drops cached pages of threads that another process changed, and tells the open
    live streams: from the change bus at once, from polling as the fallback."""

    def __init__(self, services: Services, cache: ReadCache, hub: LiveHub) -> None:
        self.services = services
        self.cache = cache
        self.hub = hub
        self.seen: dict[int, datetime] = {}
        # updated_at values this process's own writes gave threads, lately: the bus may
        # bring one back after a later write of ours, out of order.
        self.mine: OrderedDict[int, deque[datetime]] = OrderedDict()
        # ... and every stamp this process's writes gave them (``committed``).
        self.stamped: OrderedDict[int, deque[datetime]] = OrderedDict()
        # ... and those of its votes and edits, whose news its pages had at commit.
        self.told: OrderedDict[int, deque[datetime]] = OrderedDict()
        self.since = datetime.now(UTC)
        # Pages are read after this: a change stamped before it is in every one of them.
        self.started = self.since
        self.views = views_of(services.db)
        self.staff_stamp: str | None = None
        self.stamp_read = False  # before the first poll there is nothing cached to drop

    def _thread_changed(self, site_id: str, key: str, thread_id: int,
                        updated_at: datetime | None, change: Change | None = None) -> bool:
        """Drop the thread's cached pages and tell its open pages; False when the change
        was known already. ``change``: as the bus brought it, with the news open pages
        show in place (comments taken down, vote counts); True when it also carries
        comments to read and send them (``apply_slow``)."""
        if updated_at is not None and (self.seen.get(thread_id) == updated_at
                                       or updated_at in self.mine.get(thread_id, ())):
            return False  # heard of already (from the bus, or an earlier poll), or ours
        if updated_at is not None:
            self.seen[thread_id] = updated_at
        tags: list[Tag] = [("thread", str(thread_id)), ("key", site_id, key), ("site", site_id)]
        if updated_at is not None and updated_at in self.told.get(thread_id, ()):
            # A vote, edit or decision of ours: our comments' listener dropped the pages
            # and told them at commit. The poll sees a thread's newest stamp only, and
            # another process's change may hide behind ours: drop them again then.
            if change is None:
                self.cache.invalidate(tags)
            return False
        only_votes = change is not None and change.votes and not (
            change.comments or change.removed or change.edited)
        self.cache.invalidate(
            tags, VoteCounts(change.votes) if only_votes and change is not None else None)
        if change is None or not change.shown_in_place:
            # A bare "changed", which each page answers with a fetch (spread over
            # seconds): the poll's news, and changes that carry nothing pages show.
            self.hub.publish(site_id, key, {"thread": key})
            return False
        if change.removed:
            self.hub.publish(site_id, key, {"thread": key, "removed": list(change.removed)})
        self._tell_votes(change)
        self._tell_thread(change)
        return bool(change.comments or change.edited)

    def _tell_thread(self, change: Change) -> None:
        """The news of a change no comment's listener sends: the discussion closed or
        opened again, comments featured or pinned."""
        if change.closed is not None:
            self.hub.publish(change.site_id, change.key,
                             {"thread": change.key, "closed": change.closed})
        if change.pins:
            self.hub.publish(change.site_id, change.key, {"thread": change.key, "pins": [
                {"id": i, "kind": kind or None} for i, kind in change.pins]})

    def _tell_votes(self, change: Change) -> None:
        if change.votes:
            self.hub.publish(change.site_id, change.key, {"thread": change.key, "votes": [
                {"id": i, "score": score, "upvotes": up, "downvotes": down}
                for i, score, up, down in change.votes]})

    def _send_published(self, change: Change) -> None:
        """Comments published (posted, or approved by a moderator) or edited by a
        change: their open pages get each comment as the thread's page shows it now, so
        they need not fetch the thread."""
        for ids, name in ((change.comments, "comment"), (change.edited, "edited")):
            if not ids:
                continue
            try:
                shown = self.services.reading.published(change.site_id, change.thread_id, ids)
            except Exception:  # the pages still learn that something changed
                log.exception("reading comments changed elsewhere")
                self.hub.publish(change.site_id, change.key, {"thread": change.key})
                return
            for comment in shown:  # none when they were held or removed meanwhile
                if name == "edited":
                    del comment["replies"]  # the page has them: only the comment changed
                self.hub.publish(change.site_id, change.key,
                                 {"thread": change.key, name: comment})

    def ours(self, thread_id: int, updated_at: datetime, before: datetime | None = None,
             site_id: str = "", key: str = "") -> None:
        """Note a change this process is about to commit (its listeners act on it).
        ``before``: the thread's stamp as the change found it, where known. A stamp this
        process never saw is another process's change, which this one's stamp is about
        to hide from the poll (it sees only the newest): the thread's pages are dropped
        now (without the bus, nothing else would tell of it)."""
        if (before is not None and site_id and before >= self.started
                and self.seen.get(thread_id) != before
                and before not in self.mine.get(thread_id, ())
                and before not in self.stamped.get(thread_id, ())):
            self._thread_changed(site_id, key, thread_id, None)
        self.seen[thread_id] = updated_at
        self._remember(self.mine, thread_id, updated_at)

    def committing(self, conn: Connection, changes: list[Change]) -> None:
        """Before a commit of this process: its votes, edits and moderators' decisions
        reach its open pages from ``committed`` (and from the comments' listener, for
        comments taken down), and the bus, which may bring the change back before that
        ran, must not tell them again. (Posts are ``mine`` already: the posting path
        tells pages of them.)"""
        for change in changes:
            if self._told_at_commit(change):
                assert change.at is not None
                self._remember(self.told, change.thread_id, change.at)
                if self._knows(change.thread_id, stamp_before(conn, change.thread_id)):
                    # Nothing of another process's can hide behind it: the poll may
                    # pass it by (a vote's pages are then brought up to date from the
                    # counts, not read again).
                    self.seen[change.thread_id] = change.at

    def _knows(self, thread_id: int, stamp: datetime | None) -> bool:
        """Whether every page this process read of the thread since ``stamp`` was
        stamped shows what the stamp's change did (or it was this process's)."""
        if stamp is None:
            return False
        return (stamp < self.started or self.seen.get(thread_id) == stamp
                or any(stamp in known.get(thread_id, ())
                       for known in (self.mine, self.stamped, self.told)))

    def _told_at_commit(self, change: Change) -> bool:
        return (change.kind is ChangeKind.THREAD and change.at is not None
                and change.shown_in_place
                and change.at not in self.mine.get(change.thread_id, ()))

    def committed(self, changes: list[Change]) -> None:
        """After a commit of this process: the stamps its writes gave threads (votes,
        edits, decisions as well as posts), which a later post finds as its ``before``.
        Kept apart from ``mine``: the bus and the poll drop the thread's cached pages.
        Votes, edits and approved comments reach this process's open pages from here,
        at once (comments taken down, from the comments' listener); the other
        processes' from the bus (or, without one, from their poll, as a bare
        "changed")."""
        for change in changes:
            if change.kind is not ChangeKind.THREAD or change.at is None:
                continue
            self._remember(self.stamped, change.thread_id, change.at)
            if self._told_at_commit(change):
                try:
                    if change.closed is not None or change.pins:
                        # No comment's listener drops the thread's pages for these.
                        self.cache.invalidate([("thread", str(change.thread_id)),
                                               ("key", change.site_id, change.key),
                                               ("site", change.site_id)])
                    self._tell_thread(change)
                    self._tell_votes(change)
                    self._send_published(change)
                except Exception:  # the write committed: never fail it now
                    log.exception("telling open pages of a change")

    @staticmethod
    def _remember(stamps: OrderedDict[int, deque[datetime]], thread_id: int,
                  updated_at: datetime) -> None:
        recent = stamps.get(thread_id)
        if recent is None:
            recent = stamps[thread_id] = deque(maxlen=64)
            if len(stamps) > 10_000:
                stamps.popitem(last=False)
        else:
            stamps.move_to_end(thread_id)
        recent.append(updated_at)

    def poll(self, resync: bool = False) -> None:
        """Look for threads changed by other processes. While the change bus is up, the
        changes of the last ``BUS_GRACE`` are left to it (unless ``resync``): a poll
        between a commit and its message would tell pages a bare "changed" and, the
        stamp then seen, drop the message that carries what changed."""
        bus = self.services.bus
        until = (datetime.now(UTC) - BUS_GRACE
                 if bus is not None and bus.connected and not resync else None)
        with self.services.db.read() as conn:
            rows = queries.changed_threads(conn, self.since - POLL_SLACK, until)
            stamp = queries.staff_stamp(conn)
        if self.stamp_read and stamp != self.staff_stamp:
            # Someone became, or stopped being, a site's staff (queries.staff_changed):
            # their "Staff" badges change on pages of any thread.
            self.cache.clear()
        self.staff_stamp, self.stamp_read = stamp, True
        newest = self.since
        for row in rows:
            self._thread_changed(row.site_id, row.key, row.id, row.updated_at)
            newest = max(newest, row.updated_at)
        self.since = newest
        cutoff = newest - POLL_SLACK * 2
        if len(self.seen) > 10_000:
            self.seen = {k: v for k, v in self.seen.items() if v > cutoff}

    def apply(self, changes: list[Change]) -> list[Change]:
        """Act on changes heard from the bus; returns those that need the database
        (run ``apply_slow`` on them off the event loop)."""
        slow = []
        for change in changes:
            if change.kind is ChangeKind.THREAD:
                if self._thread_changed(change.site_id, change.key, change.thread_id,
                                        change.at, change):
                    slow.append(change)
            elif change.kind in (ChangeKind.BANS, ChangeKind.SIGN_IN):
                forget_what_moderation_read(self.services, self.views, change)
            else:
                slow.append(change)
        return slow

    def apply_slow(self, changes: list[Change]) -> None:
        for change in changes:
            if change.kind is ChangeKind.HISTORY:
                forget_what_moderation_read(self.services, self.views, change)
                if self.services.reading.shows_regulars(change.site_id):
                    self.cache.invalidate([("pages", change.site_id)])
            elif change.kind is ChangeKind.STAFF:
                self.cache.invalidate([("pages", change.site_id)])
            elif change.kind is ChangeKind.THREAD:
                self._send_published(change)
            elif change.kind is ChangeKind.SITES:
                forget_what_moderation_read(self.services, self.views, change)
            elif change.kind is ChangeKind.RESYNC:
                forget_what_moderation_read(self.services, self.views, change)
                self.poll(resync=True)


# Feature packages plug in through an ``install(app, services)`` function that may add
# routers, transaction hooks, listeners and background tasks (app.state.background).
FEATURES = (
    "rostra.widget.routes",
    "rostra.api.moderation_install",
    "rostra.api.notify_install",
    "rostra.admin.install",
)


def _install_features(app: FastAPI, services: Services) -> None:
    import importlib

    routers = ("router", "demo_router") if services.settings.demo_pages else ("router",)
    for module_name in FEATURES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # the feature is not part of this build
            raise
        install = getattr(module, "install", None)
        if install is not None:
            install(app, services)
        else:
            for name in routers:
                router = getattr(module, name, None)
                if router is not None:
                    app.include_router(router)


def _prune_sign_ins(services: Services) -> Callable[[], Awaitable[None]]:
    """A background task: forget ended reader sessions, spent email links and passkey
    challenges, hourly."""

    async def prune_forever() -> None:
        while True:
            await asyncio.sleep(3600)
            for prune in (services.accounts.sessions.prune, services.email_sign_in.prune,
                          services.passkeys.prune):
                try:
                    await run_in_threadpool(prune)
                except Exception:  # keep serving; the next round retries
                    log.exception("pruning sign-ins failed")

    return prune_forever


class ReadAgainOnLostConnection:
    """A GET (or HEAD) whose database connection was lost on one of its statements (the
    database restarting or failing over at that moment) runs once more, on a fresh
    connection, if no byte of its answer has left: it changed nothing. Without this, the
    requests in flight at a restart answered 500 (posts and other writes run their
    transaction again themselves; see ``rostra.store.db.attempts``)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        started = False
        received: list[Any] = []

        async def remember(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def receive_once() -> Any:
            received.append(await receive())
            return received[-1]

        try:
            await self.app(scope, receive_once, remember)
            return
        except DBAPIError as exc:
            if started or not may_run_again(exc):
                raise
            log.info("%s %s: the database connection was lost; reading again",
                     scope["method"], scope["path"])

        async def replay() -> Any:
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)


def create_app(settings: Settings, *, run_migrations: bool = True,
               role: Literal["embedded", "worker", "posting"] = "embedded") -> Any:
    """The ASGI application: the Front wrapped around the FastAPI app.

    ``role``: "worker" for a server's worker (rostra.asgi), which then stores new
    comments in a posting process of its own when the setting ``posting_process`` says
    so; "posting" for that process (rostra.posting_worker), which serves no pages and so
    keeps none up to date; "embedded" (tests, embedding) stores them in a thread.

    Raises ConfigError when the settings are unsafe to serve with (see
    ``rostra.config.serving_problems``)."""
    check_serving(settings)
    db = Database(settings.database_url)
    if run_migrations:
        migrate.upgrade(db)
    services = Services.build(settings, db)
    cache = ReadCache(settings.read_cache_entries, settings.read_stale_seconds)

    hub = LiveHub()
    poller = CrossWorkerInvalidation(services, cache, hub)

    def invalidate(event: CommentEvent) -> None:
        # A new comment, or a vote's counts, is all a rebuild needs to bring the thread's
        # pages up to date.
        new = event.kind is EventKind.CREATED and event.at is not None and not event.retitled
        cache.invalidate(
            [("thread", str(event.thread_id)), ("key", event.site_id, event.thread_key),
             ("site", event.site_id)],
            PageChange(event.comment) if new
            else VoteCounts(((event.comment_id, *event.votes),)) if event.votes else None,
        )
        if event.kind is EventKind.CREATED and event.comment is not None:
            # Open pages hear of a new comment from here, with the comment itself (a
            # held one only its author sees, from posting).
            hub.publish(event.site_id, event.thread_key,
                        {"thread": event.thread_key, "comment": event.comment})
        elif (event.kind is EventKind.STATE_CHANGED
              and event.old_state is CommentState.APPROVED
              and event.new_state is not CommentState.APPROVED):
            # A comment taken down leaves open pages now, not at their next reload (the
            # bus or the poll tells those of other processes).
            hub.publish(event.site_id, event.thread_key,
                        {"thread": event.thread_key, "removed": [event.comment_id]})

    def ours(events: list[CommentEvent]) -> None:
        # Before the commit: the change bus or the poll brings these changes back, and
        # must not send open pages a bare "changed" (a fetch) for them.
        for event in events:
            if event.at is not None:
                poller.ours(event.thread_id, event.at, event.before, event.site_id,
                            event.thread_key)

    if role != "posting":
        services.comments.listeners.append(invalidate)
        services.comments.committing.append(ours)
        db.before_commit.append(poller.committing)
        db.after_commit.append(poller.committed)
    lane: Lane
    if role == "worker" and settings.posting_process:
        def stored_elsewhere(events: list[CommentEvent]) -> None:
            for event in events:
                invalidate(event)

        lane = ProcessLane(stored_elsewhere, poller.ours, POSTING_READS)
        db.after_commit.append(lane.forward)
    else:
        lane = PostingLane(services.comments, hub=hub)

    bus = services.bus

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async def poll_forever() -> None:
            waited = 0.0
            while True:
                await asyncio.sleep(settings.cache_poll_seconds)
                waited += settings.cache_poll_seconds
                if bus is not None and bus.connected and waited < BUS_POLL_SECONDS:
                    continue
                waited = 0.0
                try:
                    if role != "posting":  # it serves no pages: only what moderation reads
                        await run_in_threadpool(poller.poll)
                    await run_in_threadpool(services.sites.reload)
                except Exception:  # keep serving; the next poll retries
                    log.exception("cache poll failed")

        def heard(changes: list[Change]) -> None:
            if isinstance(lane, ProcessLane):
                lane.forward(changes)
            slow = poller.apply(changes)
            if slow:
                task = asyncio.get_running_loop().create_task(
                    run_in_threadpool(poller.apply_slow, slow))
                pending.add(task)
                task.add_done_callback(pending.discard)

        async def connected() -> None:
            # What changed while the bus was away (or before it first connected).
            if isinstance(lane, ProcessLane):
                lane.forward([Change(ChangeKind.RESYNC)])
            await run_in_threadpool(poller.apply_slow, [Change(ChangeKind.RESYNC)])

        pending: set[asyncio.Task[None]] = set()
        if isinstance(lane, ProcessLane):
            await lane.start()
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        hub.loop = asyncio.get_running_loop()
        restore_signals = close_on_stop_signals(hub)
        tasks = [asyncio.create_task(poll_forever()), asyncio.create_task(hub.beat_forever())]
        if bus is not None and role != "posting":
            # A posting process hears what it needs from its worker, in order with the
            # posts; listening too would only read back comments it stored itself.
            tasks.append(asyncio.create_task(bus.run(heard, connected)))
        tasks += [asyncio.create_task(job()) for job in _app.state.background]
        try:
            yield
        finally:
            restore_signals()
            sys.setswitchinterval(switch_interval)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if isinstance(lane, ProcessLane):
                await lane.aclose()
            for close in _app.state.on_shutdown:
                close()
            # A cancelled task's thread may still be running its query: let pooled
            # connections come back before the pool goes, or they are never closed.
            if not db.is_sqlite:
                deadline = asyncio.get_running_loop().time() + 5
                while (db.engine.pool.checkedout()  # type: ignore[attr-defined]
                       and asyncio.get_running_loop().time() < deadline):
                    await asyncio.sleep(0.02)
            db.dispose()

    app = FastAPI(
        title="Rostra",
        version=__version__,
        description="Self-hosted discussions for news sites and blogs. See docs/api.md.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.cache = cache
    app.state.live = hub
    app.state.settings = settings
    app.state.background = []  # async callables run for the app's lifetime
    app.state.on_shutdown = []  # plain callables run at shutdown
    problems.install(app)
    app.add_middleware(ReadAgainOnLostConnection)
    openapi.install(app)
    app.include_router(read)
    app.include_router(write)
    app.include_router(author)
    app.include_router(live_router)
    app.state.oidc = {p.name: OidcClient(p) for p in settings.oidc_providers}
    app.include_router(signin_router)
    app.include_router(account_router)
    app.include_router(email_sign_in_router)
    app.include_router(passkey_sign_in_router)
    _install_features(app, services)
    app.state.background.append(_prune_sign_ins(services))

    app.include_router(api_docs.router)

    @app.get("/healthz", tags=["operations"], summary="Liveness")
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/readyz", tags=["operations"], summary="Readiness: the database answers")
    def readyz() -> JSONResponse:
        try:
            with db.read() as conn:
                conn.exec_driver_sql("SELECT 1")
            current = migrate.is_current(db)
        except Exception as exc:  # any failure means "not ready"; say which
            return JSONResponse({"status": "unavailable", "error": type(exc).__name__},
                                status_code=503)
        if not current:
            return JSONResponse({"status": "unavailable", "error": "schema not migrated"},
                                status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics",
             response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {}}},
                        401: problems.PROBLEM_RESPONSE, 403: problems.PROBLEM_RESPONSE})
    def metrics_endpoint(request: Request) -> Response:
        # GET /metrics — with metrics_token as a bearer token, else from loopback only
        check_metrics_access(request, settings.metrics_token)
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        return JSONResponse({
            "name": "Rostra", "version": __version__, "api_docs": f"{base}/api/docs",
            "openapi": f"{base}/api/openapi.json", "health": f"{base}/healthz",
        })

    if bus is not None:
        app.state.on_shutdown.append(bus.close)
    if not isinstance(lane, ProcessLane):
        # First at shutdown: the lane finishes the posts already queued while everything
        # they need is still there.
        app.state.on_shutdown.insert(0, lane.close)
    app.state.posting = lane
    return Front(app, cache, services.sites,
                 PostEndpoint(lane, settings.trusted_proxies, MAX_BODY, settings.public_url),
                 hsts_seconds=settings.hsts_seconds if settings.public_url.startswith(
                     "https://") else 0, public_url=settings.public_url)
