"""A signed-in reader's own account, for the widget's account panel. Every route
needs the session's token in ``X-Rostra-Session`` (never a cookie: no ambient
authority, so no cross-site request can use it) and a page of the site as Origin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.api.routes import PROBLEMS, json_response, services
from rostra.api.schemas import IdPath
from rostra.services.passkeys import PasskeyInfo
from rostra.services.serialise import iso

router = APIRouter(prefix="/api/account", tags=["account"], responses=PROBLEMS)

SiteQuery = Annotated[str, Query(max_length=64, description="The site signed in to")]


class PasskeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    handle: str = Field(..., max_length=100, description="From the options call")
    credential: dict[str, Any] = Field(..., description="The browser's answer, as JSON")
    name: str | None = Field(None, max_length=100, description="A name to tell it apart")


def _passkey(p: PasskeyInfo) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "created_at": iso(p.created_at),
            "last_used_at": iso(p.last_used_at)}


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(..., max_length=100,
                         description='Exactly "erase my account": nothing is erased without it')


class SignOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    everywhere: bool = False


def _token(request: Request, site: str) -> str | None:
    svc = services(request)
    svc.sites.check_origin(svc.sites.get(site), request.headers.get("origin"))
    return request.headers.get("x-rostra-session")


@router.get("", summary="The signed-in reader's account, sessions and devices")
async def get_account(request: Request, site: SiteQuery) -> Response:
    # GET /api/account?site= — who is signed in, where, and what they may claim
    identity = services(request).identity
    view = await run_in_threadpool(identity.overview, site, _token(request, site))
    keys = await run_in_threadpool(services(request).passkeys.of_reader, view.reader.id)
    body: dict[str, Any] = {
        "name": view.reader.name,
        "method": view.method,
        "email_verified": view.email_verified,
        "claimable": view.claimable,
        "sessions": [
            {"id": s.id, "method": s.method, "device": s.device, "current": s.current,
             "created_at": iso(s.created_at), "seen_at": iso(s.seen_at),
             "expires_at": iso(s.expires_at)}
            for s in view.sessions
        ],
        "passkeys": [_passkey(p) for p in keys],
    }
    return json_response(body, headers={"Cache-Control": "no-store"})


@router.delete("/sessions/{session_id}", status_code=204,
               summary="End one of the reader's sessions (any device)")
async def delete_session(request: Request, session_id: IdPath, site: SiteQuery) -> Response:
    # DELETE /api/account/sessions/{id}?site= — that browser is signed out at once
    identity = services(request).identity
    await run_in_threadpool(identity.end_session, site, _token(request, site), session_id)
    return Response(status_code=204)


@router.post("/sign-out", summary="Sign out here, or everywhere")
async def sign_out(request: Request, site: SiteQuery, body: SignOutIn | None = None) -> Response:
    # POST /api/account/sign-out?site= {"everywhere": bool} — ends this or every session
    identity = services(request).identity
    everywhere = body.everywhere if body is not None else False
    ended = await run_in_threadpool(
        lambda: identity.sign_out(site, _token(request, site), everywhere=everywhere))
    return json_response({"ended": ended})


@router.post("/claim", summary="Claim earlier anonymous comments under the verified address")
async def claim(request: Request, site: SiteQuery) -> Response:
    # POST /api/account/claim?site= — the site's comments written anonymously with the
    # address this account proved it owns become the account's
    identity = services(request).identity
    claimed = await run_in_threadpool(identity.claim, site, _token(request, site))
    return json_response({"claimed": claimed})


@router.post("/passkeys/options", summary="Begin adding a passkey to the account")
async def passkey_options(request: Request, site: SiteQuery) -> Response:
    # POST /api/account/passkeys/options?site= — options for navigator.credentials.create()
    svc = services(request)
    begun = await run_in_threadpool(svc.passkeys.reader_register_options, site,
                                    _token(request, site), request.headers.get("origin"))
    return json_response({"handle": begun.handle, "options": begun.options},
                         headers={"Cache-Control": "no-store"})


@router.post("/passkeys", status_code=201, summary="Add the passkey the browser made")
async def add_passkey(request: Request, site: SiteQuery, body: PasskeyIn) -> Response:
    # POST /api/account/passkeys?site= {handle, credential, name} — checked, then kept
    svc = services(request)
    added = await run_in_threadpool(
        lambda: svc.passkeys.reader_register(
            site, _token(request, site), request.headers.get("origin"), body.handle,
            body.credential, name=body.name, device=request.headers.get("user-agent")))
    return json_response(_passkey(added), 201)


@router.delete("/passkeys/{passkey_id}", status_code=204, summary="Remove a passkey")
async def remove_passkey(request: Request, passkey_id: IdPath, site: SiteQuery) -> Response:
    # DELETE /api/account/passkeys/{id}?site= — it signs no one in any more
    svc = services(request)
    await run_in_threadpool(svc.passkeys.remove_reader, site, _token(request, site), passkey_id)
    return Response(status_code=204)


@router.get("/data", summary="A copy of everything stored under the account")
async def own_data(request: Request, site: SiteQuery) -> Response:
    # GET /api/account/data?site= — comments, votes, reports, subscriptions, sessions,
    # passkeys, notes, as `rostra privacy export --subject` writes them (GDPR Art. 15, 20)
    identity = services(request).identity
    data = await run_in_threadpool(identity.own_data, site, _token(request, site))
    return json_response(data, headers={
        "Cache-Control": "no-store",
        "Content-Disposition": 'attachment; filename="rostra-account.json"'})


@router.post("/erase", summary="Erase the account (and end its sessions)")
async def erase(request: Request, site: SiteQuery, body: EraseIn) -> Response:
    # POST /api/account/erase?site= {"confirm": "erase my account"} — as
    # `rostra privacy forget --subject` erases it (GDPR Art. 17)
    identity = services(request).identity
    done = await run_in_threadpool(identity.erase, site, _token(request, site), body.confirm)
    return json_response({"erased": done}, headers={"Cache-Control": "no-store"})
