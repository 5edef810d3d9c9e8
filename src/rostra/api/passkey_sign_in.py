"""Readers signing in with a passkey alone, from the widget: options with a fresh
challenge, then the signed answer traded for a session (rostra.services.passkeys)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.api.routes import PROBLEMS, client_ip, json_response, services

router = APIRouter(prefix="/auth/passkey", tags=["sign-in"], responses=PROBLEMS)


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(..., max_length=64)


class AssertionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(..., max_length=64)
    handle: str = Field(..., max_length=100, description="From the options call")
    credential: dict[str, Any] = Field(..., description="The browser's answer, as JSON")


@router.post("/options", summary="Begin signing in with a passkey")
async def options(request: Request, body: SiteIn) -> Response:
    # POST /auth/passkey/options {site} — a challenge for navigator.credentials.get()
    svc = services(request)
    begun = await run_in_threadpool(svc.passkeys.reader_sign_in_options, body.site,
                                    request.headers.get("origin"))
    return json_response({"handle": begun.handle, "options": begun.options},
                         headers={"Cache-Control": "no-store"})


@router.post("/session", summary="Sign in with the passkey's answer")
async def session(request: Request, body: AssertionIn) -> Response:
    # POST /auth/passkey/session {site, handle, credential} — a session for the site
    svc = services(request)
    token, reader = await run_in_threadpool(
        lambda: svc.passkeys.reader_sign_in(
            body.site, request.headers.get("origin"), body.handle, body.credential,
            device=request.headers.get("user-agent"),
            ip=client_ip(request, svc.settings.trusted_proxies)))
    return json_response({"session": token, "name": reader.name, "email": reader.email or ""},
                         headers={"Cache-Control": "no-store"})
