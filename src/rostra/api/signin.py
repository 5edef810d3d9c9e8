"""Readers signing in with an OpenID Connect provider, in a popup the widget opens.

``/auth/<provider>/start`` sends the popup to the provider, with the attempt's state,
nonce and PKCE verifier kept in a signed, short-lived cookie on this server's origin;
``/auth/<provider>/callback`` checks the answer, keeps the reader's account for the
site and hands a session to the widget's page by ``postMessage``, addressed to that
page's origin only (one of the site's origins), then closes.
"""

from __future__ import annotations

import hmac
import html
import secrets
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from rostra.api.routes import client_ip, served_over_https
from rostra.core.errors import Forbidden, NotFound, RostraError
from rostra.services.container import Services
from rostra.services.oidc import OidcClient
from rostra.services.sessions import SignInMethod
from rostra.services.site_providers import full_name

router = APIRouter(prefix="/auth", tags=["sign-in"])

COOKIE = "rostra_sign_in"
ATTEMPT_SECONDS = 600  # from the click to the provider's answer


def _clients(request: Request) -> dict[str, OidcClient]:
    clients: dict[str, OidcClient] = request.app.state.oidc
    return clients


def _site_clients(request: Request, site: str) -> list[OidcClient]:
    """The site's own providers, named <site>.<name> (one client per configuration, kept
    so that each provider's metadata and keys are read once)."""
    services: Services = request.app.state.services
    cache: dict[tuple[str, str], OidcClient] = request.app.state.__dict__.setdefault(
        "_site_oidc", {})
    out = []
    for provider in services.site_providers.of_site(site):
        named = provider.model_copy(update={"name": full_name(site, provider.name)})
        key = (site, named.model_dump_json())
        client = cache.get(key)
        if client is None:
            if len(cache) > 1000:
                cache.clear()
            client = cache[key] = OidcClient(named)
        out.append(client)
    return out


def _client(request: Request, name: str) -> OidcClient:
    if "." in name:
        site, _, _own = name.partition(".")
        client = next((c for c in _site_clients(request, site[:64])
                       if c.provider.name == name), None)
    else:
        client = _clients(request).get(name)
    if client is None:
        raise NotFound(f"no sign-in provider {name[:40]!r}")
    return client


def _callback_url(request: Request, name: str) -> str:
    services: Services = request.app.state.services
    # Never the request's Host header: check_serving requires public_url with providers.
    base = services.settings.public_url.rstrip("/")
    return f"{base}/auth/{name}/callback"


def _offered(request: Request, site: str) -> list[OidcClient]:
    """The providers a site offers: the server's, narrowed by the site's settings, then
    the site's own."""
    services: Services = request.app.state.services
    chosen = services.sites.settings_of(site).sign_in.providers
    clients = _clients(request)
    server = (list(clients.values()) if chosen is None
              else [clients[name] for name in chosen if name in clients])
    return server + _site_clients(request, site)


@router.get("/providers", summary="Ways readers may sign in")
def providers(request: Request, site: str | None = Query(None, max_length=64)) -> JSONResponse:
    # GET /auth/providers?site= — the widget shows a "Sign in with …" button for each
    # provider the site offers, and "Sign in by email" when it offers that
    if site is None:
        return JSONResponse({"providers": [
            {"name": c.provider.name, "label": c.provider.label}
            for c in _clients(request).values()
        ]})
    services: Services = request.app.state.services
    services.sites.get(site)
    offered = [{"name": c.provider.name, "label": c.provider.label}
               for c in _offered(request, site)]
    email = services.email_sign_in.available(site)
    # A passkey is added after signing in another way: without one, the button would
    # lead nowhere (unless some reader of the site has a passkey already).
    passkeys = services.sites.settings_of(site).sign_in.passkeys and (
        bool(offered) or email or services.passkeys.site_has_any(site))
    return JSONResponse({"providers": offered, "email": email, "passkeys": passkeys},
                        headers={"Cache-Control": "no-cache"})


@router.get("/{name}/start", summary="Begin signing in (opened in a popup)")
async def start(
    request: Request, name: str, site: str = Query(..., max_length=64),
    origin: str = Query(..., max_length=200),
) -> Response:
    services: Services = request.app.state.services
    client = await run_in_threadpool(_client, request, name)
    found = services.sites.get(site)
    offered = await run_in_threadpool(_offered, request, site)
    if name not in {c.provider.name for c in offered}:
        raise Forbidden(f"site {site!r} does not offer {name[:40]!r}",
                        code="provider_not_offered")
    if origin not in found.origins:
        raise Forbidden(f"origin {origin[:100]!r} is not one of site {site!r}'s",
                        code="origin_not_allowed")
    redirect_uri = _callback_url(request, name)
    begun = await run_in_threadpool(client.start, redirect_uri)
    state = services.tokens.sign_in_state({
        "provider": name, "site": site, "origin": origin, "state": begun.state,
        "nonce": begun.nonce, "verifier": begun.verifier,
    })
    response = RedirectResponse(begun.url, status_code=302)
    secure = served_over_https(request)
    response.set_cookie(COOKIE, state, max_age=ATTEMPT_SECONDS, path="/auth/", httponly=True,
                        secure=secure, samesite="lax")
    return response


@router.get("/{name}/callback", summary="The provider sends the reader back here")
async def callback(
    request: Request, name: str, code: str = Query("", max_length=2000),
    state: str = Query("", max_length=200), error: str = Query("", max_length=200),
) -> Response:
    services: Services = request.app.state.services
    attempt = services.tokens.sign_in_state_of(request.cookies.get(COOKIE), ATTEMPT_SECONDS)
    if attempt is None or attempt.get("provider") != name:
        return _page(None, {"rostra": "sign-in-failed", "code": "sign_in_failed"},
                     "This sign-in has expired or was not started here. Please try again.")
    origin = attempt["origin"]
    if error or not code:
        return _page(origin, {"rostra": "sign-in-failed", "code": "sign_in_cancelled"},
                     "Sign-in was cancelled.")
    if not hmac.compare_digest(state.encode(), attempt["state"].encode()):
        return _page(origin, {"rostra": "sign-in-failed", "code": "sign_in_failed"},
                     "This answer is not for the sign-in this browser started.")
    client = await run_in_threadpool(_client, request, name)
    try:
        identity = await run_in_threadpool(
            client.finish, code, _callback_url(request, name), attempt["verifier"],
            attempt["nonce"])
        reader = await run_in_threadpool(
            lambda: services.accounts.sign_in(attempt["site"], identity.subject, identity.name,
                                              identity.email,
                                              email_verified=identity.email is not None))
        session = await run_in_threadpool(
            lambda: services.accounts.session_for(
                attempt["site"], reader, SignInMethod.OIDC,
                device=request.headers.get("user-agent"),
                ip=client_ip(request, services.settings.trusted_proxies)))
    except RostraError as exc:
        return _page(origin, {"rostra": "sign-in-failed", "code": exc.extra.get("code", exc.code)},
                     exc.detail)
    message = {"rostra": "signed-in", "site": attempt["site"], "session": session,
               "name": reader.name, "email": reader.email or ""}
    return _page(origin, message, f"Signed in as {reader.name}. This window closes itself.")


def _page(origin: str | None, message: dict[str, Any], text: str) -> HTMLResponse:
    """A page that tells the widget's page the outcome, then closes."""
    nonce = secrets.token_urlsafe(16)
    # JSON inside <script>: "<" escaped so that no value can close the element.
    data = orjson.dumps({"origin": origin, "message": message}).decode().replace("<", "\\u003c")
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Rostra sign-in</title></head>"
        f"<body><p>{html.escape(text)}</p><script nonce='{nonce}'>"
        f"const d = {data};"
        "if (d.origin && window.opener) { window.opener.postMessage(d.message, d.origin);"
        " window.close(); }</script></body></html>"
    )
    response = HTMLResponse(body, headers={
        "Content-Security-Policy": f"default-src 'none'; script-src 'nonce-{nonce}'",
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
    })
    response.delete_cookie(COOKIE, path="/auth/")
    return response
