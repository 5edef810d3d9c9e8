"""create_app(settings): wiring only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Literal

from fastapi import FastAPI, Request
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, PlainTextResponse, Response

from rostra import __version__
from rostra.api import api_docs, openapi, problems
from rostra.api.account import router as account_router
from rostra.api.cache import PageChange, ReadCache, VoteCounts
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
from rostra.cross_worker import BUS_POLL_SECONDS, POSTING_READS, CrossWorkerInvalidation
from rostra.services.comments import CommentEvent, EventKind
from rostra.services.container import Services
from rostra.services.oidc import OidcClient
from rostra.store import migrate
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database, may_run_again

log = logging.getLogger("rostra")

# How long a thread that wants the GIL waits before the running one must give it up
# (Python's default is 5 ms). The posting lane and page rebuilds give the GIL up on every
# SQLite call (every row of a page), and with a busy event loop each of those cost them
# up to a whole interval: a 1,000-comment page took seconds to rebuild under 64 readers,
# and a post tens of milliseconds. A short interval bounds each wait.
GIL_SWITCH_SECONDS = 0.0002


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
