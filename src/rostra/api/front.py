"""The plain-ASGI front every HTTP request passes first.

It gives each request an id, enforces the body size limit, answers CORS preflights,
adds CORS headers for the sites' origins (never on the staff surfaces, whose changes it
takes from the server's own origin only), serves cached thread pages and counts and
takes new comments (rostra.api.posting) without entering the framework, and records
metrics and an access log line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from rostra.api import metrics
from rostra.api.cache import CacheKey, Entry, ReadCache, accepts_gzip
from rostra.api.pacing import ReadPacer
from rostra.api.posting import PostEndpoint
from rostra.api.problems import CONTENT_TYPE, problem_body
from rostra.logs import request_id
from rostra.services.sites import SiteService

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("rostra.access")

CACHED_PATHS = frozenset({"/api/comments", "/api/counts"})
POSTING_PATH = "/api/comments"
PUBLIC_PREFIXES = ("/widget/", "/embed.js", "/api/origin")
# What only staff (or Prometheus) may use: no page of a site's origin may read or call it
# with the visitor's cookies. A site's origin may share Rostra's registrable domain
# (www.news.example beside comments.news.example), where the SameSite=Strict staff
# cookie is sent as well, so CORS there would hand a site's page the staff session.
STAFF_PREFIXES = ("/admin", "/api/moderation", "/api/admin", "/metrics")
MAX_BODY = 256 * 1024
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
# Sent with every response that does not set them itself.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
)
ALLOW_METHODS = b"GET, POST, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = (b"Content-Type, X-Rostra-Voter, X-Rostra-Edit-Token, X-Rostra-Pow, X-Rostra-SSO, "
                 b"X-Rostra-Session, If-None-Match, X-Request-ID")
EXPOSE_HEADERS = b"ETag, X-Request-ID, Retry-After, X-Rostra-Stale-Ms"
STALE_HEADER = b"x-rostra-stale-ms"


def cache_key(scope: Scope, origin: str) -> CacheKey:
    return (scope["path"], scope["query_string"], origin)


def stale_ms(entry: Entry) -> str:
    """How long ago, in milliseconds, a write made ``entry`` out of date."""
    return str(max(0, round((time.monotonic() - entry.stale_since) * 1000)))


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope["headers"]}


def is_staff_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in STAFF_PREFIXES)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL, lower case; "" for none."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def from_elsewhere(headers: dict[bytes, bytes], own_origin: str) -> bool:
    """A browser request sent by a page of another origin: its Origin is not ours
    (``own_origin``, or the request's own Host when that is unknown), or its
    Sec-Fetch-Site says another site's page, or a sibling on our own site, sent it.
    A client that sends neither header (a script, curl) is not a page elsewhere."""
    fetch_site = headers.get(b"sec-fetch-site", b"").lower()
    if fetch_site in (b"cross-site", b"same-site"):
        return True
    origin = headers.get(b"origin")
    if origin is None:
        return False
    given = origin.decode("latin-1").strip().lower()
    if own_origin:
        return given != own_origin
    host = headers.get(b"host", b"").decode("latin-1").strip().lower()
    return not host or urlsplit(given).netloc != host


class Front:
    def __init__(
        self, app: ASGIApp, cache: ReadCache, sites: SiteService,
        posting: PostEndpoint | None = None, *, hsts_seconds: int = 0,
        public_url: str = "",
    ) -> None:
        self.app = app
        # Where the workspace's own pages come from: changes to staff surfaces are taken
        # from pages of this origin only (the request's Host when public_url is unset).
        self.own_origin = origin_of(public_url)
        # HSTS only when public_url is https (the caller decides): a plain-http test or
        # intranet server must not pin browsers to https.
        hsts = ((b"strict-transport-security",
                 f"max-age={hsts_seconds}; includeSubDomains".encode()),) if hsts_seconds else ()
        self._security_headers = (*SECURITY_HEADERS, *hsts)
        self.cache = cache
        self.sites = sites
        self.posting = posting
        self._pacer: ReadPacer | None = None
        self.writes_in_flight = 0  # writes other than posts, between request and answer
        # Metric children bound once: labels() on every cache hit costs more than the hit.
        self._hit_metrics = {
            (path, status): (metrics.REQUESTS.labels("GET", path, str(status)),
                             metrics.LATENCY.labels("GET", path))
            for path in CACHED_PATHS for status in (200, 304)
        }

    def _cors(self, origin: str) -> list[tuple[bytes, bytes]]:
        if origin and self.sites.is_known_origin(origin):
            return [
                (b"access-control-allow-origin", origin.encode()),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-expose-headers", EXPOSE_HEADERS),
                (b"vary", b"Origin"),
            ]
        return [(b"vary", b"Origin")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = _headers(scope)
        origin = headers.get(b"origin", b"").decode("latin-1")
        method = scope["method"]
        path = scope["path"]
        incoming_id = headers.get(b"x-request-id", b"")
        # A proxy's id is kept when it is letters, digits and dashes (nginx's $request_id,
        # a UUID from Caddy or Envoy): nothing a header or a log line could be bent with.
        rid = (
            incoming_id.decode("latin-1")
            if 0 < len(incoming_id) <= 64 and incoming_id.replace(b"-", b"").isalnum()
            else os.urandom(8).hex()
        )

        if method == "GET" and path in CACHED_PATHS:
            key = cache_key(scope, origin)
            entry = self.cache.get(key)
            extra: list[tuple[bytes, bytes]] = []
            if entry is None:
                # A write made the page stale and its rebuild is under way: the page from
                # just before, marked, rather than a place in the queue behind the rebuild.
                entry = self.cache.stale(key)
                if entry is not None:
                    extra.append((STALE_HEADER, stale_ms(entry).encode()))
            if entry is not None:
                extra += self._cors(origin)
                pacer = self._pacer_of_loop()
                if not pacer.admit():
                    await pacer.wait_turn()
                status = await self._send_hit(entry, headers, rid, extra, send)
                metrics.CACHE_HITS.inc()
                counter, latency = self._hit_metrics[(path, status)]
                counter.inc()
                latency.observe(time.perf_counter() - started)
                return

        token = request_id.set(rid)
        try:
            staff = is_staff_path(path)
            if method == "OPTIONS" and b"access-control-request-method" in headers:
                status = await self._preflight(origin, rid, send, staff=staff)
            elif staff and method not in BODYLESS and from_elsewhere(headers, self.own_origin):
                status = await self._refuse(
                    send, rid, "staff pages take changes only from this server's own pages")
            elif method == "POST" and path == POSTING_PATH and self.posting is not None:
                status = await self._post(scope, receive, send, headers, origin, rid)
            elif method in BODYLESS:
                status = await self._forward(scope, receive, send, headers, origin, rid)
            else:
                # A vote, an edit, a flag: it needs turns of the loop as a post does,
                # and the readers are paced while it is on its way (``_pacer_of_loop``).
                self.writes_in_flight += 1
                try:
                    status = await self._forward(scope, receive, send, headers, origin, rid)
                finally:
                    self.writes_in_flight -= 1
        finally:
            request_id.reset(token)
        elapsed = time.perf_counter() - started
        route = metrics.route_label(path, status, scope)
        metrics.REQUESTS.labels(method, route, str(status)).inc()
        metrics.LATENCY.labels(method, route).observe(elapsed)
        level = logging.INFO if method not in ("GET", "HEAD") or status >= 400 else logging.DEBUG
        if log.isEnabledFor(level):
            log.log(level, "%s %s %d", method, path, status, extra={
                "method": method, "path": path, "status": status, "request_id": rid,
                "duration_ms": round(elapsed * 1000, 2),
            })

    def _pacer_of_loop(self) -> ReadPacer:
        loop = asyncio.get_running_loop()
        if self._pacer is None or self._pacer.loop is not loop:
            lane = self.posting.lane if self.posting is not None else None

            def busy() -> bool:
                # Under 20 votes/s on a 1,000-comment thread read by 64, unpaced turns
                # held each vote 50 ms and the readers' p99 at 1.4 s (paced: 20 ms and
                # 0.17 s), as they once held posts.
                return self.writes_in_flight > 0 or (lane is not None and lane.in_flight > 0)

            self._pacer = ReadPacer(loop, busy=busy)
        return self._pacer

    async def _send_hit(self, entry: Entry, headers: dict[bytes, bytes], rid: str,
                        extra: list[tuple[bytes, bytes]], send: Send) -> int:
        body, etag = entry.body, entry.etag
        encoding: tuple[tuple[bytes, bytes], ...] = ()
        if entry.gzipped is not None and accepts_gzip(
                headers.get(b"accept-encoding", b"").decode("latin-1")):
            body, etag = entry.gzipped, entry.gzip_etag
            encoding = ((b"content-encoding", b"gzip"),)
        if headers.get(b"if-none-match") == etag.encode():
            await send({"type": "http.response.start", "status": 304, "headers": [
                (b"etag", etag.encode()), (b"vary", b"Accept-Encoding"),
                (b"x-request-id", rid.encode()), *extra, *self._security_headers,
            ]})
            await send({"type": "http.response.body", "body": b""})
            return 304
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *encoding,
            (b"etag", etag.encode()),
            (b"vary", b"Accept-Encoding"),
            (b"cache-control", b"no-cache"),
            (b"x-request-id", rid.encode()),
            *extra,
            *self._security_headers,
        ]})
        await send({"type": "http.response.body", "body": body})
        return 200

    async def _post(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes],
        origin: str, rid: str,
    ) -> int:
        assert self.posting is not None
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and (len(length) > 12 or int(length) > MAX_BODY):
            await self._too_large(send, origin, rid)
            return 413
        return await self.posting(scope, receive, send, headers,
                                  [*self._cors(origin), (b"x-request-id", rid.encode()),
                                   *self._security_headers])

    async def _preflight(self, origin: str, rid: str, send: Send, *, staff: bool) -> int:
        if staff:
            return await self._refuse(send, rid, "staff surfaces answer no cross-origin "
                                      "requests")
        if origin and self.sites.is_known_origin(origin):
            await send({"type": "http.response.start", "status": 204, "headers": [
                *self._cors(origin),
                (b"access-control-allow-methods", ALLOW_METHODS),
                (b"access-control-allow-headers", ALLOW_HEADERS),
                (b"access-control-max-age", b"86400"),
                (b"x-request-id", rid.encode()),
                *self._security_headers,
            ]})
            await send({"type": "http.response.body", "body": b""})
            return 204
        return await self._refuse(send, rid, f"no site allows requests from {origin[:100]!r}")

    async def _refuse(self, send: Send, rid: str, detail: str) -> int:
        body = problem_body(403, "origin_not_allowed", "Origin not allowed", detail)
        await send({"type": "http.response.start", "status": 403, "headers": [
            (b"content-type", CONTENT_TYPE.encode()), (b"vary", b"Origin"),
            (b"x-request-id", rid.encode()), *self._security_headers,
        ]})
        await send({"type": "http.response.body", "body": body})
        return 403

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes],
        origin: str, rid: str,
    ) -> int:
        status_box = [500]
        if is_staff_path(scope["path"]):
            origin = ""  # no CORS headers at all: see STAFF_PREFIXES
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and (len(length) > 12 or int(length) > MAX_BODY):
            await self._too_large(send, origin, rid)
            return 413
        if scope["method"] not in BODYLESS:
            # Read the whole body here, within the limit, before the app sees it: a
            # chunked body has no Content-Length to refuse it by, and an error raised
            # inside the app would reach the client as a 500.
            body = await _read_limited(receive)
            if body is None:
                await self._too_large(send, origin, rid)
                return 413
            receive = _replay(body, receive)
        # Widget files are public: any page may load them (module scripts need CORS).
        if scope["path"].startswith(PUBLIC_PREFIXES):
            cors = [(b"access-control-allow-origin", b"*")]
        else:
            cors = self._cors(origin)
        security = self._security_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"access-control-allow-origin" in names:
                    headers.append((b"x-request-id", rid.encode()))
                else:
                    headers += [*cors, (b"x-request-id", rid.encode())]
                headers += [h for h in security if h[0] not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
        return status_box[0]

    async def _too_large(self, send: Send, origin: str, rid: str) -> None:
        body = problem_body(413, "payload_too_large", "Payload too large",
                            f"request bodies are limited to {MAX_BODY // 1024} KB")
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", CONTENT_TYPE.encode()), (b"x-request-id", rid.encode()),
            *self._cors(origin), *self._security_headers,
        ]})
        await send({"type": "http.response.body", "body": body})


async def _read_limited(receive: Receive) -> bytes | None:
    """The request body, or None when it is larger than MAX_BODY."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the app sees an empty body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then the real channel (an
    app waiting for http.disconnect still gets it)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay
