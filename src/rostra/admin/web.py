"""Rendering and request helpers shared by the workspace's pages."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson
from fastapi import Request
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rostra.admin.auth import csrf_for
from rostra.api.problems import error_response
from rostra.api.staff_auth import Staff
from rostra.core.errors import RostraError, Unauthorized
from rostra.core.thread_keys import http_url

log = logging.getLogger("rostra.admin")


def _when(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if not isinstance(value, datetime):
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


env = Environment(
    loader=PackageLoader("rostra.admin", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["when"] = _when
env.filters["duration"] = _duration
# Links are made only from http(s) URLs (a thread's link may come from an import).
env.filters["http_url"] = http_url


def _place_of(comment: dict[str, Any]) -> str | None:
    """Where a comment is read: a published one at its place in the article (the widget
    opens ``#comment-ID``), any other at the article; None without an http(s) link."""
    url = http_url(comment["thread"]["url"])
    if not url or comment["state"] != "approved":
        return url
    return url.split("#", 1)[0] + f"#comment-{comment['id']}"


env.filters["place_of"] = _place_of


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page; every template gets the staff member, the CSRF token and the path."""
    staff: Staff | None = getattr(request.state, "staff", None)
    body = env.get_template(template).render(
        request=request, staff=staff, csrf=csrf_for(request), path=request.url.path,
        **context,
    )
    return HTMLResponse(body, status_code=status, headers={
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                   "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    })


async def read_form(request: Request) -> dict[str, list[str]]:
    """The url-encoded body as name -> values (no multipart: our forms send none).

    Its size is bounded before it gets here: the front (api/front.py) answers 413 to any
    body over MAX_BODY, with or without a Content-Length."""
    body = await request.body()
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def one(form: dict[str, list[str]], name: str, default: str = "") -> str:
    values = form.get(name)
    return values[0].strip() if values else default


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def json_ok(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def safe_next(value: str | None, default: str = "/admin/queue") -> str:
    """Only paths inside the workspace are followed after a form (no open redirect)."""
    if not value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or "\\" in value:
        return default
    return value


def redirect(url: str, **params: Any) -> RedirectResponse:
    if params:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        url += ("&" if "?" in url else "?") + query
    return RedirectResponse(url, status_code=303)


Handler = Callable[..., Awaitable[Response]]


class ServerFailed(RostraError):
    """What a staff member is told of an error nobody foresaw (the database failing in
    the middle of a form's write, say); the traceback goes to the log."""

    status = 500
    code = "internal_error"
    title = "The server could not do this"


def _unforeseen(request: Request) -> ServerFailed:
    log.exception("admin: %s %s failed", request.method, request.url.path)
    return ServerFailed("Try again in a moment; if it keeps failing, the server's log says "
                        "why.")


def pages(handler: Handler) -> Handler:
    """Turn service errors into pages: sign-in for 401, an error page otherwise; and
    problem+json for requests from the workspace's script. An error nobody foresaw in a
    form's POST is a page too (a 500): escaping, uvicorn would drop the connection after
    its answer, and the browser could show a reset connection instead. (A GET's escapes:
    ReadAgainOnLostConnection runs it again when the database went away under it.)"""

    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            try:
                return await handler(request, *args, **kwargs)
            except (RostraError, StarletteHTTPException):
                raise
            except Exception:
                if request.method in ("GET", "HEAD"):
                    raise
                raise _unforeseen(request) from None
        except RostraError as exc:
            if wants_json(request):
                return error_response(exc)
            if isinstance(exc, Unauthorized) and request.method in ("GET", "HEAD"):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect("/admin/login", next=target)
            return render(request, "error.html", status=exc.status, title=exc.title,
                          detail=exc.detail, code=exc.extra.get("code", exc.code))

    return wrapped


def json_endpoint(handler: Handler) -> Handler:
    """Turn service errors into problem+json whatever the request accepts: for the
    endpoints that only ever answer JSON (no sign-in redirect, no error page)."""

    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return await handler(request, *args, **kwargs)
        except RostraError as exc:
            return error_response(exc)
        except StarletteHTTPException:
            raise
        except Exception:
            if request.method in ("GET", "HEAD"):
                raise
            return error_response(_unforeseen(request))

    return wrapped
