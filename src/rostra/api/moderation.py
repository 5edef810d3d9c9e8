"""Moderation routes by tier: read (proof-of-work challenges), write (reader flags) and
moderator (decisions, bans, queue, audit log; staff authentication)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.api.routes import PROBLEMS, context, json_response
from rostra.api.schemas import IdPath, IdQuery, Input
from rostra.api.staff_auth import Role, current_staff, require_role
from rostra.core.errors import InvalidInput, TooManyRequests
from rostra.core.ids import MAX_ID
from rostra.moderation.checks.pow import AttackMeter
from rostra.moderation.engine import ModerationEngine
from rostra.moderation.pow import ProofOfWork
from rostra.moderation.ratelimit import RateLimiter
from rostra.services import thread_closing
from rostra.services.container import Services
from rostra.services.moderation import (
    BanKind,
    BanRequest,
    FlagReason,
    ModerationService,
    QueueKind,
    StaffAction,
)

read = APIRouter(prefix="/api", tags=["read"], responses=PROBLEMS)
write = APIRouter(prefix="/api", tags=["write"], responses=PROBLEMS)
moderator = APIRouter(prefix="/api/moderation", tags=["moderation"], responses=PROBLEMS)


@dataclass
class Runtime:
    """The moderation parts one running app shares (app.state.moderation)."""

    service: ModerationService
    engine: ModerationEngine
    limiter: RateLimiter
    pow: ProofOfWork
    meter: AttackMeter
    rate_limits: bool


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.moderation
    return rt


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


# -- read tier ---------------------------------------------------------------


class PowData(BaseModel):
    site: str
    difficulty: int = Field(description="Counters the challenge may take (about half, on average)")


class PowParameters(BaseModel):
    """ALTCHA's challenge parameters, under ALTCHA's (camelCase) names."""

    algorithm: str = Field(description="ALTCHA key derivation: SHA-256")
    cost: int
    keyLength: int
    keyPrefix: str
    nonce: str
    salt: str
    expiresAt: int
    data: PowData


class PowChallenge(BaseModel):
    """An ALTCHA challenge (Proof-of-Work v2), and whether it must be solved now."""

    parameters: PowParameters
    signature: str
    required: bool = Field(description="Whether a post from this reader must carry a solution now")


@read.get("/pow", response_model=PowChallenge,
          summary="A proof-of-work challenge (ALTCHA) to post with")
def get_pow(
    request: Request,
    site: Annotated[str | None, Query(max_length=64)] = None,
    thread: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    # GET /api/pow?site=&thread= — the widget solves it and sends the answer as "pow"
    svc, rt = services(request), runtime(request)
    ctx = context(request)
    site_obj = svc.sites.resolve(site, ctx.origin)
    policy = rt.engine.policy_for(site_obj.id)
    from rostra.core.thread_keys import ThreadKeyError, thread_key

    key = None
    if thread:
        try:
            key = thread_key(thread)
        except ThreadKeyError as exc:
            raise InvalidInput(f"thread: {exc}") from None
    need = rt.meter.requirement(policy.pow, site_obj.id, svc.comments.ip_hash(ctx.ip), key)
    challenge = rt.pow.issue(site_obj.id, need.difficulty)
    return json_response({**challenge, "required": need.required},
                         headers={"Cache-Control": "no-store"})


# -- write tier --------------------------------------------------------------


class FlagIn(Input):
    reason: FlagReason
    note: str | None = Field(None, max_length=500)


@write.post("/comments/{comment_id}/flag", status_code=202, summary="Report a comment")
def flag_comment(request: Request, comment_id: IdPath, body: FlagIn) -> Response:
    # POST /api/comments/{id}/flag — N flags from distinct readers hold it for review
    svc, rt = services(request), runtime(request)
    ctx = context(request, comment_id)
    site_id = rt.service.site_of_comment(comment_id)
    policy = rt.engine.policy_for(site_id)
    if rt.rate_limits:
        keys = [k for k in (svc.comments.ip_hash(ctx.ip), ctx.voter_token) if k]
        wait = rt.limiter.hit(policy.rate_limits.flag, f"flag:{site_id}", keys)
        if wait is not None:
            raise TooManyRequests(f"too many reports just now; please wait {wait} seconds",
                                  retry_after=wait)
    rt.service.flag(comment_id, body.reason, body.note, ctx, policy.thresholds.flags_to_hold)
    # Whether this flag held the comment is the moderators' business, not the reader's.
    return json_response({"status": "received"}, status=202)


# -- moderator tier ----------------------------------------------------------


class DecisionIn(Input):
    reason: str | None = Field(None, max_length=2000)


class BanIn(Input):
    site: str = Field(max_length=64)
    kind: BanKind
    value: str | None = Field(None, max_length=320,
                              description="Account id, email, voter id, IP or CIDR network")
    comment_id: int | None = Field(None, ge=1, le=MAX_ID,
                                   description="Or: ban the author of this comment")
    wide: bool = Field(False, description="Range from a comment: /16 (IPv6 /32), not /24 (/48)")
    duration_seconds: int | None = Field(None, ge=60, le=10 * 365 * 86400,
                                         description="Empty: until lifted")
    reason: str | None = Field(None, max_length=2000)
    shadow: bool = False


def _staff_for_site(request: Request, site_id: str) -> str:
    staff = current_staff(request)
    require_role(staff, site_id, Role.MODERATOR)
    return staff.name if staff.id is None else f"{staff.name} (#{staff.id})"


@moderator.get("/queue", summary="Comments waiting for a moderator")
async def get_queue(
    request: Request,
    site: Annotated[str, Query(max_length=64)],
    kind: QueueKind = QueueKind.HELD,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: IdQuery = None,
) -> Response:
    # GET /api/moderation/queue?site=&kind=held|flagged|spam|shadow
    _staff_for_site(request, site)
    rt = runtime(request)
    items = await run_in_threadpool(rt.service.queue, site, kind, limit=limit, before_id=before)
    return json_response({"comments": items,
                          "next_before": items[-1]["id"] if len(items) == limit else None})


@moderator.get("/comments/{comment_id}", summary="A comment with its moderation record")
def get_comment(request: Request, comment_id: IdPath) -> Response:
    # GET /api/moderation/comments/{id} — decision, reasons, flags, audit trail
    rt = runtime(request)
    _staff_for_site(request, rt.service.site_of_comment(comment_id))
    return json_response({"comment": rt.service.comment(comment_id)})


@moderator.post("/comments/{comment_id}/{action}", summary="Approve, reject, spam or delete")
def decide(request: Request, comment_id: IdPath, action: StaffAction,
           body: DecisionIn | None = None) -> Response:
    # POST /api/moderation/comments/{id}/approve|reject|spam|delete — recorded with why
    rt = runtime(request)
    actor = _staff_for_site(request, rt.service.site_of_comment(comment_id))
    comment = rt.service.decide(comment_id, action, actor=actor,
                                reason=body.reason if body else None)
    return json_response({"comment": comment})


def _ban(request: Request, body: BanIn, shadow: bool) -> Response:
    rt = runtime(request)
    actor = _staff_for_site(request, body.site)
    ban = rt.service.ban(
        BanRequest(site_id=body.site, kind=body.kind, value=body.value,
                   comment_id=body.comment_id, wide=body.wide,
                   duration_seconds=body.duration_seconds, reason=body.reason,
                   shadow=shadow),
        actor=actor,
    )
    return json_response({"ban": ban}, status=201)


@moderator.post("/bans", status_code=201, summary="Ban an author (or shadow-ban: shadow true)")
def post_ban(request: Request, body: BanIn) -> Response:
    # POST /api/moderation/bans — by account, email, voter, IP or network, for a time
    return _ban(request, body, body.shadow)


@moderator.post("/shadow-bans", status_code=201, summary="Shadow-ban an author")
def post_shadow_ban(request: Request, body: BanIn) -> Response:
    # POST /api/moderation/shadow-bans — they see their comments; nobody else does
    return _ban(request, body, True)


class ClosingIn(Input):
    site: str = Field(..., max_length=64)
    thread: str = Field(..., max_length=1000, description="Thread id, path or URL")
    closed: bool = Field(True, description="false: open the discussion again")
    reason: str | None = Field(None, max_length=2000)


@moderator.post("/threads/close", summary="Close a discussion to new comments (or reopen it)")
def close_thread(request: Request, body: ClosingIn) -> Response:
    # POST /api/moderation/threads/close — its comments stay; new ones are refused, and
    # open pages stop offering the form at once
    db = services(request).db
    actor = _staff_for_site(request, body.site)
    thread_id = thread_closing.thread_id_of(db, body.site, body.thread)
    return json_response({"thread": thread_closing.set_closed(
        db, thread_id, body.closed, actor=actor, reason=body.reason)})


@moderator.get("/bans", summary="A site's bans")
def get_bans(request: Request, site: Annotated[str, Query(max_length=64)],
             all: bool = False) -> Response:
    # GET /api/moderation/bans?site= — active ones, or all with all=true
    _staff_for_site(request, site)
    return json_response({"bans": runtime(request).service.list_bans(site, active_only=not all)})


@moderator.delete("/bans/{ban_id}", summary="Lift a ban")
def delete_ban(request: Request, ban_id: IdPath,
               reason: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    # DELETE /api/moderation/bans/{id}?reason= — unban
    rt = runtime(request)
    actor = _staff_for_site(request, rt.service.ban_site(ban_id))
    return json_response({"ban": rt.service.unban(ban_id, actor=actor, reason=reason)})


@moderator.get("/audit", summary="The site's moderation audit log")
def get_audit(request: Request, site: Annotated[str, Query(max_length=64)],
              limit: Annotated[int, Query(ge=1, le=500)] = 100,
              before: IdQuery = None) -> Response:
    # GET /api/moderation/audit?site= — who did what, when and why, newest first
    _staff_for_site(request, site)
    entries: list[dict[str, Any]] = runtime(request).service.audit(site, limit=limit,
                                                                    before_id=before)
    return json_response({"entries": entries})


ROUTERS = (read, write, moderator)
