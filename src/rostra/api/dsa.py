"""EU DSA notice and action routes by tier: read (the site's legal grounds), write
(notices), author (statements of reasons, appeals), moderator (the notices queue,
decisions, appeals and notifiers' complaints, transparency figures), and the statement
and notice pages behind emailed links."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from rostra.api.moderation import _staff_for_site, runtime, services
from rostra.api.routes import PROBLEMS, context, json_response
from rostra.api.schemas import IdPath, Input
from rostra.core.errors import NotFound, RostraError, TooManyRequests, Unauthorized
from rostra.core.ids import MAX_ID
from rostra.notify.templates import render_page, site_language_of
from rostra.services.comments import RequestContext
from rostra.services.dsa import AppealOutcome, DsaService, NoticeOutcome
from rostra.services.dsa_transparency import period

read = APIRouter(prefix="/api", tags=["read"], responses=PROBLEMS)
write = APIRouter(prefix="/api", tags=["write"], responses=PROBLEMS)
author = APIRouter(prefix="/api", tags=["author"], responses=PROBLEMS)
moderator = APIRouter(prefix="/api/moderation", tags=["moderation"], responses=PROBLEMS)
pages = APIRouter(prefix="/dsa", include_in_schema=False)

PAGE_HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


def dsa(request: Request) -> DsaService:
    value: DsaService = request.app.state.dsa
    return value


def _limit(request: Request, ctx: RequestContext, site_id: str, rule: str, what: str) -> None:
    rt = runtime(request)
    if not rt.rate_limits:
        return
    limits = rt.engine.policy_for(site_id).rate_limits
    comments = services(request).comments
    # A signed-in reader is counted as their account too, from whatever browser.
    signed_in = comments.accounts.reader(site_id, ctx.sso, ctx.session)
    account = f"account:{signed_in.id}" if signed_in is not None else None
    keys = [k for k in (comments.ip_hash(ctx.ip), ctx.voter_token, account) if k]
    wait = rt.limiter.hit(getattr(limits, rule), f"{rule}:{site_id}", keys)
    if wait is not None:
        raise TooManyRequests(f"too many {what} just now; please wait {wait} seconds",
                              retry_after=wait)


# -- read tier ---------------------------------------------------------------


class GroundOut(BaseModel):
    code: str
    label: str


class GroundsOut(BaseModel):
    site: str
    grounds: list[GroundOut]
    notice_hours: int = Field(description="How long the site aims to take to decide a notice")


@read.get("/dsa/grounds", response_model=GroundsOut,
          summary="The legal grounds a notice of illegal content may name")
def get_grounds(request: Request,
                site: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    # GET /api/dsa/grounds?site= — for the widget's "report illegal content" form
    svc = services(request)
    site_obj = svc.sites.resolve(site, request.headers.get("origin"))
    policy = runtime(request).engine.policy_for(site_obj.id).dsa
    return json_response({"site": site_obj.id, "notice_hours": policy.notice_hours,
                          "grounds": [{"code": g.code, "label": g.label}
                                      for g in policy.grounds]})


# -- write tier --------------------------------------------------------------


class NoticeIn(Input):
    ground: str = Field(max_length=64, description="A code from GET /api/dsa/grounds")
    explanation: str = Field(max_length=5000,
                             description="Why the comment is illegal (10 to 5000 characters)")
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320,
                              description="For the receipt and the decision; never shown")
    good_faith: bool = Field(description="The notifier believes the notice is accurate and "
                                         "complete (DSA Art. 16(2)(d))")


class ReceiptOut(BaseModel):
    id: int
    comment_id: int | None
    ground: str
    ground_label: str
    received_at: str
    deadline_at: str
    status: str


class NoticeCreated(BaseModel):
    notice: ReceiptOut


@write.post("/comments/{comment_id}/notices", status_code=201, response_model=NoticeCreated,
            summary="Report a comment as illegal content (EU DSA notice)")
def post_notice(request: Request, comment_id: IdPath, body: NoticeIn) -> Response:
    # POST /api/comments/{id}/notices — a notice with its legal ground; answers a receipt
    ctx = context(request, comment_id)
    service = dsa(request)
    site_id = runtime(request).service.site_of_comment(comment_id)
    _limit(request, ctx, site_id, "notice", "notices")
    receipt = service.submit_notice(
        comment_id, ground=body.ground, explanation=body.explanation, name=body.name,
        email=body.email, good_faith=body.good_faith, ctx=ctx)
    return json_response({"notice": receipt}, status=201)


# -- author tier -------------------------------------------------------------


def _prove_author(request: Request, comment_id: int) -> RequestContext:
    ctx = context(request, comment_id)
    if not services(request).tokens.proves_author(ctx.edit_token, comment_id):
        raise Unauthorized("this comment's edit token is missing or wrong", code="unauthorized")
    return ctx


@author.get("/comments/{comment_id}/statements",
            summary="Statements of reasons about one's own comment (EU DSA Art. 17)")
def get_statements(request: Request, comment_id: IdPath) -> Response:
    # GET /api/comments/{id}/statements — X-Rostra-Edit-Token proves the author
    _prove_author(request, comment_id)
    return json_response({"statements": dsa(request).statements(comment_id)},
                         headers={"Cache-Control": "no-store"})


class AppealIn(Input):
    statement_id: int = Field(ge=1, le=MAX_ID)
    text: str = Field(max_length=5000, description="Why the decision should change")


@author.post("/comments/{comment_id}/appeal",
             summary="Appeal once against a statement of reasons (EU DSA Art. 20)")
def post_appeal(request: Request, comment_id: IdPath, body: AppealIn) -> Response:
    # POST /api/comments/{id}/appeal — a different moderator decides; both sides are told
    ctx = _prove_author(request, comment_id)
    site_id = runtime(request).service.site_of_comment(comment_id)
    services(request).sites.check_origin(services(request).sites.get(site_id), ctx.origin)
    _limit(request, ctx, site_id, "appeal", "appeals")
    statement = dsa(request).appeal(body.statement_id, body.text, comment_id=comment_id)
    return json_response({"statement": statement}, status=201)


# -- moderator tier ----------------------------------------------------------


class NoticeDecisionIn(Input):
    outcome: NoticeOutcome
    reason: str | None = Field(None, max_length=2000)


class AppealDecisionIn(Input):
    outcome: AppealOutcome
    reason: str | None = Field(None, max_length=2000)


@moderator.get("/notices", summary="A site's DSA notices: open ones by deadline")
async def get_notices(request: Request, site: Annotated[str, Query(max_length=64)],
                      status: Annotated[str, Query(pattern="^(open|decided|all)$")] = "open",
                      limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
    # GET /api/moderation/notices?site=&status=open|decided|all
    _staff_for_site(request, site)
    items = await run_in_threadpool(dsa(request).notices, site, status=status, limit=limit)
    return json_response({"notices": items})


@moderator.get("/notices/{notice_id}", summary="One DSA notice")
def get_notice(request: Request, notice_id: IdPath) -> Response:
    # GET /api/moderation/notices/{id}
    service = dsa(request)
    _staff_for_site(request, service.notice_site(notice_id))
    return json_response({"notice": service.notice(notice_id)})


@moderator.post("/notices/{notice_id}/decision", summary="Decide a DSA notice")
def post_notice_decision(request: Request, notice_id: IdPath,
                         body: NoticeDecisionIn) -> Response:
    # POST /api/moderation/notices/{id}/decision — illegal | incompatible | no_action
    service = dsa(request)
    actor = _staff_for_site(request, service.notice_site(notice_id))
    notice = service.decide_notice(notice_id, body.outcome, actor=actor, reason=body.reason)
    return json_response({"notice": notice})


@moderator.get("/appeals", summary="Appeals against statements of reasons")
def get_appeals(request: Request, site: Annotated[str, Query(max_length=64)],
                all: bool = False) -> Response:
    # GET /api/moderation/appeals?site= — waiting ones, oldest first (all=true: decided too)
    _staff_for_site(request, site)
    return json_response({"appeals": dsa(request).appeals(site, pending_only=not all)})


@moderator.post("/statements/{statement_id}/appeal-decision", summary="Decide an appeal")
def post_appeal_decision(request: Request, statement_id: IdPath,
                         body: AppealDecisionIn) -> Response:
    # POST /api/moderation/statements/{id}/appeal-decision — by another moderator
    service = dsa(request)
    actor = _staff_for_site(request, service.statement_site(statement_id))
    statement = service.decide_appeal(statement_id, body.outcome, actor=actor,
                                      reason=body.reason)
    return json_response({"statement": statement})


@moderator.get("/complaints", summary="Notifiers' complaints against notice decisions")
def get_complaints(request: Request, site: Annotated[str, Query(max_length=64)],
                   all: bool = False) -> Response:
    # GET /api/moderation/complaints?site= — waiting ones, oldest first (all=true: decided too)
    _staff_for_site(request, site)
    return json_response({"complaints": dsa(request).complaints(site, pending_only=not all)})


@moderator.post("/notices/{notice_id}/complaint-decision",
                summary="Decide a notifier's complaint")
def post_complaint_decision(request: Request, notice_id: IdPath,
                            body: AppealDecisionIn) -> Response:
    # POST /api/moderation/notices/{id}/complaint-decision — by another moderator;
    # reversed, the comment is removed on the notice's ground
    service = dsa(request)
    actor = _staff_for_site(request, service.notice_site(notice_id))
    notice = service.decide_complaint(notice_id, body.outcome, actor=actor, reason=body.reason)
    return json_response({"notice": notice})


@moderator.get("/transparency", summary="DSA transparency figures of a site")
def get_transparency(
    request: Request, site: Annotated[str, Query(max_length=64)],
    since: Annotated[date | None, Query(alias="from")] = None,
    until: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    # GET /api/moderation/transparency?site=&from=YYYY-MM-DD&to=YYYY-MM-DD (both included)
    _staff_for_site(request, site)
    start, end = period(since, until)
    return json_response(dsa(request).transparency(start, end, site))


# -- the statement page behind emailed links ---------------------------------


def _page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    """The statement page, in the site's first language when there is a catalog for it."""
    statement = context.get("statement")
    language = site_language_of(services(request).sites.settings_of(statement["site"]).languages
                                if statement is not None else None)
    return HTMLResponse(render_page("dsa_statement", language, **context), status_code=status,
                        headers=PAGE_HEADERS)


@pages.get("/statement")
def statement_page(request: Request, token: str = "") -> HTMLResponse:
    # GET /dsa/statement?token= — the statement of reasons, and the appeal form
    try:
        statement = dsa(request).statement_by_token(token[:200])
    except NotFound:
        return _page(request, 404, statement=None, token="", error=None, thanks=False)
    return _page(request, statement=statement, token=token, error=None, thanks=False)


@pages.post("/statement")
async def statement_appeal(request: Request) -> HTMLResponse:
    # POST /dsa/statement (form: token, text) — the appeal, for an author without the widget
    body = (await request.body())[:20_000].decode("utf-8", "replace")
    form = {k: v[0] for k, v in parse_qs(body, max_num_fields=10).items()}
    token = form.get("token", "")[:200]
    service = dsa(request)
    statement_id = service.tokens.statement_of(token)
    if statement_id is None:
        return _page(request, 404, statement=None, token="", error=None, thanks=False)
    error, thanks = None, False
    try:
        await run_in_threadpool(service.appeal, statement_id, form.get("text", ""))
        thanks = True
    except RostraError as exc:
        error = exc.detail
    statement = await run_in_threadpool(service.statement_by_token, token)
    return _page(request, 400 if error else 200, statement=statement, token=token, error=error,
                 thanks=thanks)


def _notice_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    """The notifier's page: the decision on their notice and the complaint form, in the
    site's first language when there is a catalog for it."""
    notice = context.get("notice")
    language = site_language_of(services(request).sites.settings_of(notice["site"]).languages
                                if notice is not None else None)
    return HTMLResponse(render_page("dsa_notice", language, **context), status_code=status,
                        headers=PAGE_HEADERS)


@pages.get("/notice")
def notice_page(request: Request, token: str = "") -> HTMLResponse:
    # GET /dsa/notice?token= — the decision on a notice, and the notifier's complaint form
    try:
        notice = dsa(request).notice_by_token(token[:200])
    except NotFound:
        return _notice_page(request, 404, notice=None, token="", error=None, thanks=False)
    return _notice_page(request, notice=notice, token=token, error=None, thanks=False)


@pages.post("/notice")
async def notice_complaint(request: Request) -> HTMLResponse:
    # POST /dsa/notice (form: token, text) — the notifier's complaint (Art. 20(1))
    body = (await request.body())[:20_000].decode("utf-8", "replace")
    form = {k: v[0] for k, v in parse_qs(body, max_num_fields=10).items()}
    token = form.get("token", "")[:200]
    service = dsa(request)
    notice_id = service.tokens.notice_of(token)
    if notice_id is None:
        return _notice_page(request, 404, notice=None, token="", error=None, thanks=False)
    error, thanks = None, False
    try:
        await run_in_threadpool(service.complain, notice_id, form.get("text", ""))
        thanks = True
    except RostraError as exc:
        error = exc.detail
    notice = await run_in_threadpool(service.notice_by_token, token)
    return _notice_page(request, 400 if error else 200, notice=notice, token=token,
                        error=error, thanks=thanks)


ROUTERS = (read, write, author, moderator, pages)
