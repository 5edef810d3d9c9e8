"""EU DSA notice and action in the workspace: the notices queue with its deadlines, the
authors' appeals and notifiers' complaints waiting for a second moderator, and the
transparency figures: /admin/notices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.admin.auth import actor_of, check_csrf
from rostra.admin.context import require, visible_sites, who
from rostra.admin.web import json_ok, one, pages, read_form, redirect, render
from rostra.core.errors import InvalidInput
from rostra.core.ids import parse_id
from rostra.services.dsa import AppealOutcome, DsaService, NoticeOutcome
from rostra.services.dsa_transparency import period

router = APIRouter(prefix="/admin", include_in_schema=False)
VIEWS = ("open", "decided", "appeals")
DONE = {"notice": "Notice decided.", "appeal": "Appeal decided.",
        "complaint": "Complaint decided."}


def _dsa(request: Request) -> DsaService:
    service: DsaService = request.app.state.dsa
    return service


def _date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: a date such as 2026-01-31") from None


def _id(value: str, name: str) -> int:
    found = parse_id(value)
    if found is None:
        raise InvalidInput(f"{name}: not an id")
    return found


@router.get("/notices")
@pages
async def notices_page(request: Request) -> Response:
    # GET /admin/notices?site=&view=open|decided|appeals&from=&to=
    staff = await who(request)
    sites = await run_in_threadpool(visible_sites, request, staff)
    params = dict(request.query_params.items())
    site_id = params.get("site") or (sites[0] if sites else "")
    if not site_id:
        return render(request, "notices.html", sites=[], site_id="", view="open", items=[],
                      figures=None, params=params, done=None, error=None)
    require(staff, site_id)
    view = params.get("view") or "open"
    if view not in VIEWS:
        view = "open"
    service = _dsa(request)
    error = None
    try:
        start, end = period(_date(params.get("from", ""), "from"),
                            _date(params.get("to", ""), "to"))
    except InvalidInput as exc:
        error = exc.detail
        start, end = period(None, None)
    complaints: list[dict[str, Any]] = []
    if view == "appeals":  # authors' appeals and notifiers' complaints (Art. 20)
        items = await run_in_threadpool(lambda: service.appeals(site_id, pending_only=False))
        complaints = await run_in_threadpool(
            lambda: service.complaints(site_id, pending_only=False))
    else:
        items = await run_in_threadpool(lambda: service.notices(site_id, status=view))
    figures = await run_in_threadpool(service.transparency, start, end, site_id)
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"items": items, "complaints": complaints, "figures": figures})
    return render(request, "notices.html", sites=sites, site_id=site_id, view=view,
                  items=items, complaints=complaints, figures=figures, params=params,
                  actor=actor_of(staff),
                  done=DONE.get(params.get("done", "")), error=error,
                  appeal_outcomes=[o.value for o in AppealOutcome])


@router.post("/notices/{notice_id}/decide")
@pages
async def decide_notice(request: Request, notice_id: str) -> Response:
    # POST /admin/notices/{id}/decide (form: csrf, outcome, reason)
    staff = await who(request)
    form = await read_form(request)
    check_csrf(request, form)
    service = _dsa(request)
    found = _id(notice_id, "notice")
    site_id = await run_in_threadpool(service.notice_site, found)
    require(staff, site_id)
    try:
        outcome = NoticeOutcome(one(form, "outcome"))
    except ValueError:
        raise InvalidInput("outcome: illegal, incompatible, no_action or "
                           "unavailable") from None
    notice = await run_in_threadpool(lambda: service.decide_notice(
        found, outcome, actor=actor_of(staff), reason=one(form, "reason")[:2000] or None))
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"notice": notice})
    return redirect("/admin/notices", site=site_id, done="notice")


@router.post("/statements/{statement_id}/appeal")
@pages
async def decide_appeal(request: Request, statement_id: str) -> Response:
    # POST /admin/statements/{id}/appeal (form: csrf, outcome, reason) — another moderator
    service = _dsa(request)
    return await _review(request, statement_id, "statement", service.statement_site,
                         service.decide_appeal, done="appeal")


@router.post("/notices/{notice_id}/complaint")
@pages
async def decide_complaint(request: Request, notice_id: str) -> Response:
    # POST /admin/notices/{id}/complaint (form: csrf, outcome, reason) — another moderator
    service = _dsa(request)
    return await _review(request, notice_id, "notice", service.notice_site,
                         service.decide_complaint, done="complaint")


async def _review(request: Request, raw_id: str, kind: str, site_of: Callable[[int], str],
                  decide: Callable[..., dict[str, Any]], *, done: str) -> Response:
    """An author's appeal or a notifier's complaint decided (upheld or reversed) by a
    moderator of the site: the decision as JSON, or back to the appeals view."""
    staff = await who(request)
    form = await read_form(request)
    check_csrf(request, form)
    found = _id(raw_id, kind)
    site_id = await run_in_threadpool(site_of, found)
    require(staff, site_id)
    try:
        outcome = AppealOutcome(one(form, "outcome"))
    except ValueError:
        raise InvalidInput("outcome: upheld or reversed") from None
    decided = await run_in_threadpool(lambda: decide(
        found, outcome, actor=actor_of(staff), reason=one(form, "reason")[:2000] or None))
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({kind: decided})
    return redirect("/admin/notices", site=site_id, view="appeals", done=done)
