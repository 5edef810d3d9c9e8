"""Prometheus metrics: requests by route and status, latency, comments posted."""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import MutableMapping
from typing import Any

from fastapi import Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

_DIGITS = re.compile(r"/\d+(?=/|$)")
_ID_PARAM = re.compile(r"\{(?:[a-z_]+_)?id\}")

REQUESTS = Counter(
    "rostra_http_requests_total", "HTTP requests by route, method and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "rostra_http_request_duration_seconds", "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
COMMENTS_POSTED = Counter(
    "rostra_comments_posted_total", "Comments stored, by the state they were stored in",
    ["state"],
)
POSTING_BATCH = Histogram(
    "rostra_posting_batch_size", "Comments stored together in one transaction (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
CACHE_HITS = Counter("rostra_read_cache_hits_total", "Reads answered from the in-memory cache")
PAGE_REBUILDS = Counter("rostra_read_cache_rebuilds_total",
                        "Cached pages read again from the database (one per page at a time)")
PAGE_UPDATES = Counter("rostra_read_cache_updates_total",
                       "Rebuilds that added new comments to the old page (no database read)")
STALE_SERVED = Counter("rostra_read_cache_stale_total",
                       "Reads answered with the page from just before a write, during its rebuild")

KNOWN_PREFIXES = ("/api/", "/admin", "/auth/", "/embed.js", "/widget/", "/demo", "/healthz", "/readyz",
                  "/metrics", "/feeds/")


def route_label(path: str, status: int, scope: MutableMapping[str, Any] | None = None) -> str:
    """A bounded label for a path: the matched route's template ({id} for ids), one bucket
    for what matched no route."""
    route = scope.get("route") if scope is not None else None
    template = getattr(route, "path", None)
    if isinstance(template, str):
        return _ID_PARAM.sub("{id}", template)[:100]
    if status == 404 or not path.startswith(KNOWN_PREFIXES):
        return "unmatched"
    if path.startswith(("/widget/", "/admin/static/")):
        return path.rsplit("/", 1)[0] + "/{file}"
    return _DIGITS.sub("/{id}", path)[:100]


def exposition() -> tuple[bytes, str]:
    """The metrics text; merged across worker processes when they share a directory."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


LOOPBACK = ("127.", "::1")


def check_metrics_access(request: Request, token: str) -> None:
    """Let Prometheus in: with ``token``, a matching bearer token; without one, only a
    direct request from a loopback address (none that came through a proxy)."""
    from rostra.core.errors import Forbidden, Unauthorized

    if token:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
            raise Unauthorized("send the metrics token: Authorization: Bearer <metrics_token>",
                               code="metrics_token_required")
        return
    peer = request.client.host if request.client else ""
    proxied = any(h in request.headers for h in ("x-forwarded-for", "forwarded", "x-real-ip"))
    if not peer.startswith(LOOPBACK) or proxied:
        raise Forbidden("/metrics answers loopback only; set metrics_token to scrape it from "
                        "elsewhere", code="metrics_forbidden")
