"""The ceiling: a bare ASGI callable that answers with pre-serialised bytes.

It answers the same request targets as Rostra (``/api/comments?site=…``) with the
exact bytes Rostra returned for them, so nothing but the server stack (uvicorn, its
HTTP parser, the event loop) stands between the socket and the body. Rostra's share
of this app's throughput is the figure the benchmark reports.

The routes come from a JSON manifest named by ``BENCH_CEILING_MANIFEST``:
``{"/api/comments?site=bench&thread=…": "/tmp/…/big.json", …}``. No framework, no
middleware: anything more would lower the ceiling.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_NOT_FOUND = b'{"code":"not_found"}'


def _load_routes() -> dict[bytes, tuple[bytes, bytes]]:
    """Map each request target to its (body, content-length) pair, read once at import."""
    manifest_path = os.environ.get("BENCH_CEILING_MANIFEST")
    if not manifest_path:
        return {}
    manifest: dict[str, str] = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    routes: dict[bytes, tuple[bytes, bytes]] = {}
    for target, body_path in manifest.items():
        body = Path(body_path).read_bytes()
        routes[target.encode("ascii")] = (body, str(len(body)).encode("ascii"))
    return routes


ROUTES = _load_routes()
_NOT_FOUND_REPLY = (_NOT_FOUND, str(len(_NOT_FOUND)).encode("ascii"))


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer GETs for the manifest's targets; 404 for anything else."""
    if scope["type"] == "lifespan":
        # Speak the lifespan protocol so uvicorn starts without a warning.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    target: bytes = scope["raw_path"]
    if scope["query_string"]:
        target += b"?" + scope["query_string"]
    found = ROUTES.get(target)
    status, (body, length) = (200, found) if found else (404, _NOT_FOUND_REPLY)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", length)],
        }
    )
    await send({"type": "http.response.body", "body": body})
