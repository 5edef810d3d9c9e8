"""Posting comments: the posting lane (one thread, group commits) and the plain-ASGI
handler the Front answers ``POST /api/comments`` with.

Posting is the write every reader can make, so it is the one that must keep up with a
crowd. FastAPI's request machinery cost about as much as the post itself, so the Front
answers it here with the same validation model (``CommentIn``), the same problem
bodies and the same response as the documented route in ``routes.py``.

Posts go to one thread per worker, the lane. Under the GIL, threads that run Python
side by side only add switching, and on SQLite they queue for its one writer anyway.
The lane takes every post waiting when it comes round and stores them in one
transaction (a group commit), so a crowd costs one commit per batch instead of one per
comment. A response is sent only after the commit that holds its comment.

Under `rostra serve` the same batches are stored by a posting process of the worker's
own instead (``rostra.api.posting_process``, the setting ``posting_process``): there
the lane does not share the worker's GIL with its readers. Both are a ``Lane``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

import orjson
from pydantic import ValidationError

from rostra.api.live import LiveHub
from rostra.api.metrics import COMMENTS_POSTED, POSTING_BATCH
from rostra.api.problems import CONTENT_TYPE, error_problem, problem_body, validation_problem
from rostra.api.schemas import CommentIn
from rostra.core.errors import RostraError
from rostra.services.comments import CommentService, NewComment, Posted, RequestContext
from rostra.services.serialise import iso

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("rostra.posting")

MAX_BATCH = 32  # comments a transaction; a batch holds SQLite's writer for a few ms at most
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")

_Item = tuple[NewComment, RequestContext, asyncio.AbstractEventLoop, "asyncio.Future[Posted]"]


class Lane(Protocol):
    """Where a worker's posts are stored: this module's thread, or a process of their
    own (rostra.api.posting_process)."""

    in_flight: int  # posts between their request and their answer (the read pacer's cue)

    async def post(self, new: NewComment, ctx: RequestContext) -> Posted: ...


class PostingLane:
    """The thread that stores comments, in batches, for every request of this worker."""

    def __init__(self, comments: CommentService, max_batch: int = MAX_BATCH,
                 hub: LiveHub | None = None) -> None:
        self.comments = comments
        self.hub = hub
        self.in_flight = 0  # posts between their request and their answer
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def post(self, new: NewComment, ctx: RequestContext) -> Posted:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Posted] = loop.create_future()
        self._ensure_started()
        self.in_flight += 1  # read on the event loop only, as it is changed
        try:
            self._queue.put((new, ctx, loop, future))
            return await future
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        """Finish the posts already queued, then stop the thread."""
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="rostra-posting",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._post(batch)
            if stop:
                return

    def _post(self, batch: list[_Item]) -> None:
        POSTING_BATCH.observe(len(batch))
        if self.hub is not None:
            self.hub.hold()  # the answers first, then the live news of these comments
        try:
            self._post_held(batch)
        finally:
            if self.hub is not None:
                self.hub.release()

    def _post_held(self, batch: list[_Item]) -> None:
        try:
            results: list[Any] = self.comments.post_many([(new, ctx) for new, ctx, _, _ in batch])
        except BaseException as exc:  # noqa: BLE001 - no request may be left waiting
            results = [exc] * len(batch)  # each request logs it with its request id
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Posted], Any]]] = {}
        for (_, _, loop, future), result in zip(batch, results, strict=True):
            by_loop.setdefault(loop, []).append((future, result))
        for loop, settled in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, settled)
            except RuntimeError:  # that event loop has closed; nobody waits for these
                pass


def _settle(settled: list[tuple[asyncio.Future[Posted], Any]]) -> None:
    for future, result in settled:
        if future.done():  # the client went away
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


# -- requests and responses ---------------------------------------------------


def is_trusted_proxy(peer: str | None, trusted: list[str]) -> bool:
    if not peer or not trusted:
        return False
    try:
        peer_addr = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(peer_addr in ipaddress.ip_network(net, strict=False) for net in trusted)


def forwarded_ip(peer: str | None, forwarded_for: str | None, trusted: list[str]) -> str | None:
    """The reader's address; X-Forwarded-For is believed only from a trusted proxy."""
    if forwarded_for and is_trusted_proxy(peer, trusted):
        return forwarded_for.split(",")[-1].strip()
    return peer


def over_https(scheme: str, peer: str | None, forwarded_proto: str | None,
               trusted: list[str], public_url: str) -> bool:
    """Whether the browser reached Rostra over https: public_url is https, the
    connection is, or a trusted proxy says so (X-Forwarded-Proto, its last entry).
    ``rostra serve`` runs behind a TLS proxy and sees plain http itself."""
    if scheme == "https" or public_url.lower().startswith("https://"):
        return True
    return bool(forwarded_proto) and is_trusted_proxy(peer, trusted) and (
        forwarded_proto or "").split(",")[-1].strip().lower() == "https"


def cookie_is_secure(https: bool, host: str) -> bool:
    # Browsers treat loopback as a secure context, so the demo gets the same cookies.
    return https or host.lower() in LOCAL_HOSTS


def edit_cookie(posted: Posted, secure: bool) -> str:
    """The Set-Cookie value that lets the author's browser edit or delete the comment."""
    comment_id = posted.comment["id"]
    attrs = "; SameSite=none; Secure" if secure else "; SameSite=lax"
    return (f"rostra_edit_{comment_id}={posted.edit_token}; HttpOnly; "
            f"Max-Age={posted.edit_window_seconds}; Path=/api/comments/{comment_id}{attrs}")


def posted_body(posted: Posted) -> bytes:
    """The 201 body: the comment as stored, the edit token, and moderation's word."""
    COMMENTS_POSTED.labels(posted.comment["state"]).inc()
    moderation = None
    if posted.comment["state"] != "approved":
        # What an ordinary hold says, for spam and a shadow ban too (Decision.told).
        moderation = {"message": posted.decision.message,
                      "reasons": posted.decision.codes_for_author()}
    return orjson.dumps({
        "comment": posted.comment,
        "edit_token": posted.edit_token,
        "editable_until": iso(posted.editable_until),
        "voter": posted.voter_token,
        "moderation": moderation,
    })


def new_comment(body: CommentIn) -> NewComment:
    return NewComment(
        thread=body.thread, text=body.text, site=body.site, name=body.name,
        email=body.email, website=body.website, parent_id=body.parent_id,
        title=body.title, url=body.url, anchor=body.anchor,
    )


def _host_of(headers: dict[bytes, bytes], scope: Scope) -> str:
    host = headers.get(b"host", b"").decode("latin-1")
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host:
        return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    server = scope.get("server")
    return str(server[0]) if server else ""


class PostEndpoint:
    """``POST /api/comments`` for the Front: read, validate, post through the lane."""

    def __init__(self, lane: Lane, trusted_proxies: list[str], max_body: int,
                 public_url: str = "") -> None:
        self.lane = lane
        self.trusted = trusted_proxies
        self.public_url = public_url
        self.max_body = max_body

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes],
        extra_headers: list[tuple[bytes, bytes]],
    ) -> int:
        """Answer the request; returns the status sent."""
        try:
            status, body, content_type, more = await self._answer(scope, receive, headers)
        except Exception:  # an error of ours: logged, and a problem body, not a reset
            log.exception("posting failed")
            status, content_type, more = 500, CONTENT_TYPE.encode(), []
            body = problem_body(500, "internal_error", "Internal server error",
                                "the comment could not be stored; please try again")
        response_headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            *more,
            *extra_headers,
        ]
        await send({"type": "http.response.start", "status": status,
                    "headers": response_headers})
        await send({"type": "http.response.body", "body": body})
        return status

    async def _answer(
        self, scope: Scope, receive: Receive, headers: dict[bytes, bytes]
    ) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        problem_type = CONTENT_TYPE.encode()
        content_type = headers.get(b"content-type", b"application/json").split(b";")[0]
        if not (content_type.strip().lower().endswith((b"/json", b"+json"))):
            return 415, problem_body(
                415, "unsupported_media_type", "Unsupported media type",
                "send the comment as JSON (Content-Type: application/json)",
            ), problem_type, []
        raw = await self._read_body(receive)
        if raw is None:
            return 413, problem_body(
                413, "payload_too_large", "Payload too large",
                f"request bodies are limited to {self.max_body // 1024} KB",
            ), problem_type, []
        try:
            body = CommentIn.model_validate_json(raw)
        except ValidationError as exc:
            status, problem = validation_problem(exc.errors(include_url=False))
            return status, problem, problem_type, []
        peer = scope.get("client")
        forwarded = headers.get(b"x-forwarded-for")
        voter = headers.get(b"x-rostra-voter")
        sso = headers.get(b"x-rostra-sso")
        session = headers.get(b"x-rostra-session")
        origin = headers.get(b"origin")
        extras = {"pow": body.pow, "nudge_acknowledged": body.nudge_acknowledged or None}
        ctx = RequestContext(
            origin=origin.decode("latin-1") if origin is not None else None,
            ip=forwarded_ip(peer[0] if peer else None,
                            forwarded.decode("latin-1") if forwarded else None, self.trusted),
            voter_token=voter.decode("latin-1") if voter is not None else None,
            sso=sso.decode("latin-1") if sso else None,
            session=session.decode("latin-1") if session else None,
            extras={k: v for k, v in extras.items() if v is not None},
        )
        try:
            posted = await self.lane.post(new_comment(body), ctx)
        except RostraError as exc:
            status, problem, extra_headers = error_problem(exc)
            return status, problem, problem_type, [
                (name.lower().encode(), value.encode()) for name, value in extra_headers.items()
            ]
        proto = headers.get(b"x-forwarded-proto")
        https = over_https(scope.get("scheme", "http"), peer[0] if peer else None,
                           proto.decode("latin-1") if proto else None, self.trusted,
                           self.public_url)
        secure = cookie_is_secure(https, _host_of(headers, scope))
        return 201, posted_body(posted), b"application/json", [
            (b"set-cookie", edit_cookie(posted, secure).encode("latin-1")),
        ]

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)
