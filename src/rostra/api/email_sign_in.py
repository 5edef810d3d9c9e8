"""Readers signing in with an email link: asking for one (from the widget), the page
the link opens (a button, so that link scanners use nothing up), and trading the
one-time code the page hands back for a session (see rostra.services.email_sign_in)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rostra.api.routes import PROBLEMS, client_ip, json_response, services
from rostra.core.errors import RostraError
from rostra.notify.templates import choose_language, render_page
from rostra.services.email_sign_in import LINK_TTL, LinkRequest

router = APIRouter(prefix="/auth/email", tags=["sign-in"], responses=PROBLEMS)

# The page behind the link changes who this browser is signed in as: no other site
# may frame it, and it runs no script. Its address (the token) goes to no other site;
# same-origin, not no-referrer, so that its form's POST carries a real Origin to check.
PAGE_HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "same-origin", "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


class EmailLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(..., max_length=64)
    email: str = Field(..., max_length=320, description="Where to send the link; never shown")
    page: str = Field(..., max_length=2000,
                      description="The page the reader is on: the link brings them back")
    name: str | None = Field(None, max_length=400,
                             description="The name to comment under (a new account's)")
    language: str | None = Field(None, max_length=35)


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(..., max_length=64)
    code: str = Field(..., max_length=100)


@router.post("", status_code=202, summary="Email me a sign-in link")
async def ask_for_link(request: Request, body: EmailLinkIn) -> Response:
    # POST /auth/email — the same answer whether or not the address has an account
    svc = services(request)
    await run_in_threadpool(
        lambda: svc.email_sign_in.request(
            LinkRequest(site=body.site, email=body.email, page=body.page, name=body.name,
                        language=body.language),
            origin=request.headers.get("origin"),
            ip=client_ip(request, svc.settings.trusted_proxies),
            accept_language=request.headers.get("accept-language")))
    notify = getattr(request.app.state, "notify", None)
    if notify is not None:
        notify.wake()
    return json_response({"status": "sent"}, 202)


def _page(language: str, status: int = 200, back_to: str | None = None,
          **context: Any) -> HTMLResponse:
    headers = dict(PAGE_HEADERS)
    if back_to:
        # The form's answer redirects to the article: CSP's form-action covers redirects.
        headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
            "form-action 'self'", f"form-action 'self' {back_to}")
    return HTMLResponse(render_page("sign_in", language, **context), status_code=status,
                        headers=headers)


def _token_id(request: Request, token: str) -> int | None:
    notify = getattr(request.app.state, "notify", None)
    if notify is None:
        return None
    value: int | None = notify.tokens.check_sign_in(token, int(LINK_TTL.total_seconds()))
    return value


@router.get("/link", include_in_schema=False)
async def link_page(request: Request, token: str = "") -> Response:
    # GET /auth/email/link?token= — a button; nothing is used up by opening the link
    svc = services(request)
    pending = await run_in_threadpool(svc.email_sign_in.pending,
                                      _token_id(request, token[:500]))
    if pending is None:
        return _page(choose_language(None, request.headers.get("accept-language")), 400,
                     invalid=True)
    return _page(pending.language, back_to=pending.back_to, invalid=False,
                 site_name=pending.site_name, token=token, action="/auth/email/link")


def _own_origin(request: Request) -> bool:
    """A form posted from this server's own page (public_url's origin), not another
    site's: otherwise a page elsewhere could sign a visitor in as someone else."""
    origin = request.headers.get("origin")
    public = urlsplit(services(request).settings.public_url)
    return origin == f"{public.scheme}://{public.netloc}"


@router.post("/link", include_in_schema=False)
async def follow_link(request: Request) -> Response:
    # POST /auth/email/link (form: token) — uses the link and sends the browser back to
    # the article, with a one-time code in the fragment for the widget
    svc = services(request)
    language = choose_language(None, request.headers.get("accept-language"))
    if not _own_origin(request):
        return _page(language, 403, invalid=True)
    raw = (await request.body()).decode("utf-8", "replace")
    token = (parse_qs(raw, max_num_fields=5).get("token") or [""])[0]
    try:
        target = await run_in_threadpool(svc.email_sign_in.follow,
                                         _token_id(request, token[:500]))
    except RostraError:
        return _page(language, 400, invalid=True)
    return RedirectResponse(target, status_code=303, headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.post("/session", summary="Trade the code from a followed link for a session")
async def trade_code(request: Request, body: CodeIn) -> Response:
    # POST /auth/email/session {site, code} — the widget, back on the article
    svc = services(request)
    token, reader = await run_in_threadpool(
        lambda: svc.email_sign_in.exchange(
            body.site, body.code, origin=request.headers.get("origin"),
            ip=client_ip(request, svc.settings.trusted_proxies),
            device=request.headers.get("user-agent")))
    return json_response({"session": token, "name": reader.name},
                         headers={"Cache-Control": "no-store"})
