"""A site's bans: find them (by name, reason, email or address), extend them, lift them:
/admin/sites/{site}/bans."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.admin.auth import actor_of, check_csrf
from rostra.admin.context import admin, require, who
from rostra.admin.web import json_ok, one, pages, read_form, redirect, render
from rostra.api.staff_auth import Staff
from rostra.core.errors import InvalidInput
from rostra.core.ids import parse_id
from rostra.services.workspace import duration_of

router = APIRouter(prefix="/admin", include_in_schema=False)
DURATIONS = (("1h", "an hour"), ("1d", "a day"), ("7d", "a week"), ("30d", "a month"),
             ("365d", "a year"), ("forever", "until lifted"))


def _ban_id(value: str) -> int:
    found = parse_id(value)
    if found is None:
        raise InvalidInput("ban: not a ban id")
    return found


@router.get("/sites/{site_id}/bans")
@pages
async def bans_page(request: Request, site_id: str) -> Response:
    # GET /admin/sites/{id}/bans?q=&all=1 — moderators of the site
    staff = await who(request)
    require(staff, site_id)
    site = admin(request).services.sites.get(site_id)
    query = request.query_params.get("q", "")[:200]
    show_all = request.query_params.get("all") in ("1", "on", "true")
    moderation = admin(request).workspace.moderation
    found = await run_in_threadpool(lambda: moderation.search_bans(
        site_id, query, active_only=not show_all))
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"bans": found})
    return render(request, "bans.html", site=site, bans=found, q=query, show_all=show_all,
                  durations=DURATIONS, done=request.query_params.get("done"))


async def _change(request: Request, site_id: str, ban_id: str, staff: Staff) -> dict[str, str]:
    require(staff, site_id)
    form = await read_form(request)
    check_csrf(request, form)
    _ban_id(ban_id)
    return {k: one(form, k) for k in form}


def _back(form: dict[str, str], site_id: str, done: str) -> Response:
    params = {"done": done}
    if form.get("q"):
        params["q"] = form["q"]
    if form.get("all"):
        params["all"] = "1"
    return redirect(f"/admin/sites/{site_id}/bans", **params)


@router.post("/sites/{site_id}/bans/{ban_id}/extend")
@pages
async def extend_ban(request: Request, site_id: str, ban_id: str) -> Response:
    # POST /admin/sites/{id}/bans/{ban}/extend (form: csrf, duration) — from now on
    staff = await who(request)
    form = await _change(request, site_id, ban_id, staff)
    moderation = admin(request).workspace.moderation
    ban = await run_in_threadpool(lambda: moderation.extend(
        _ban_id(ban_id), duration_of(form.get("duration", "")), actor=actor_of(staff),
        site_ids=[site_id]))
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"ban": ban})
    return _back(form, site_id, "extended")


@router.post("/sites/{site_id}/bans/{ban_id}/lift")
@pages
async def lift_ban(request: Request, site_id: str, ban_id: str) -> Response:
    # POST /admin/sites/{id}/bans/{ban}/lift (form: csrf, reason)
    staff = await who(request)
    form = await _change(request, site_id, ban_id, staff)
    moderation = admin(request).workspace.moderation
    ban = await run_in_threadpool(lambda: moderation.unban(
        _ban_id(ban_id), actor=actor_of(staff), reason=form.get("reason", "")[:2000] or None,
        site_ids=[site_id]))
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"ban": ban})
    return _back(form, site_id, "lifted")
