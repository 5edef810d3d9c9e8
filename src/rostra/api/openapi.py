"""The OpenAPI document, completed: every status code and content type an operation can
answer with, as the Front, the problem handlers and the routes really send them.

FastAPI documents what a route declares; the rest is added here by rule, once, rather
than by hand on each route: errors are problem+json (RFC 9457), any request may be
refused as too large by the Front (413), a request with parameters or a body may be
invalid (422), a JSON body may be malformed (400), writes may be rate-limited (429),
staff routes may be unauthenticated or forbidden (401, 403).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from rostra.api.problems import CONTENT_TYPE

PROBLEM_SCHEMA = {
    "title": "Problem",
    "type": "object",
    "description": "Problem details (RFC 9457); `code` is a stable machine-readable name.",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object",
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
        }},
        "retry_after": {"type": "integer"},
    },
    "required": ["type", "title", "status", "detail", "code"],
}
DESCRIPTIONS = {
    400: "Malformed request (a body that is not valid JSON)",
    401: "Not signed in, or a wrong token",
    403: "Not allowed (origin, role, CSRF)",
    404: "No such site, thread, comment or other resource",
    409: "Conflict with the current state",
    413: "Request body larger than the limit",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests; see Retry-After",
    503: "Not available on this server",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
STAFF_PREFIXES = ("/api/admin/", "/api/moderation/")
# Success answers that are not JSON: (method, path) -> (status, content type).
NOT_JSON = {
    ("get", "/feeds/{site_id}.atom"): ("200", "application/atom+xml"),
    ("get", "/feeds/{site_id}/thread.atom"): ("200", "application/atom+xml"),
    ("get", "/feeds/{site_id}.rss"): ("200", "application/rss+xml"),
    ("get", "/feeds/{site_id}/thread.rss"): ("200", "application/rss+xml"),
    ("get", "/api/events"): ("200", "text/event-stream"),
    ("get", "/auth/{name}/callback"): ("200", "text/html"),
    ("get", "/metrics"): ("200", "text/plain"),
}
# Extra statuses particular operations answer with.
EXTRA: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/api/subscriptions"): (503,),  # no email on this server
    ("post", "/api/comments"): (415,),  # the posting path wants JSON
    ("get", "/readyz"): (503,),
    ("get", "/metrics"): (401, 403),
    ("get", "/auth/{name}/start"): (403, 404),
}
REDIRECTS = {("get", "/auth/{name}/start"): "302"}
NOT_MODIFIED = {("get", "/api/comments"), ("get", "/api/counts")}


def _problem() -> dict[str, Any]:
    return {"content": {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _statuses(method: str, path: str, op: dict[str, Any]) -> set[int]:
    found = {413}
    if op.get("parameters") or op.get("requestBody"):
        found.add(422)
    if op.get("requestBody"):
        found.add(400)
    if "{" in path or any(p.get("name") in ("site", "thread") for p in op.get("parameters", [])):
        found.add(404)
    if method in WRITE_METHODS and path.startswith("/api/"):
        found |= {403, 404, 429}
    if path.startswith(STAFF_PREFIXES) and not path.endswith("/flag"):
        found |= {401, 403, 404}
    found |= set(EXTRA.get((method, path), ()))
    return found


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the statuses and content types described above to ``schema`` (in place)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            responses: dict[str, Any] = op.setdefault("responses", {})
            for status in _statuses(method, path, op) | {
                    int(s) for s in responses if s.isdigit() and int(s) >= 400}:
                entry = responses.setdefault(str(status), {})
                entry["description"] = DESCRIPTIONS.get(status, entry.get("description", ""))
                entry.update(_problem())
            key = (method, path)
            if key in NOT_JSON:
                ok, media = NOT_JSON[key]
                entry = responses.setdefault(ok, {"description": "OK"})
                entry["content"] = {media: {"schema": {"type": "string"}}}
            if key in REDIRECTS:
                responses.pop("200", None)
                responses[REDIRECTS[key]] = {"description": "Redirect to the provider"}
            if key in NOT_MODIFIED:
                responses["304"] = {"description": "Not modified (If-None-Match)"}
    return schema


def install(app: FastAPI) -> None:
    """Serve the completed document at app.openapi_url."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes,
            ))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
