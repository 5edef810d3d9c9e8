"""Sites: the list, creating one, its settings, its dashboard (and its numbers as JSON),
and who works on it: /admin/sites/..."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.admin.auth import actor_of, check_csrf
from rostra.admin.charts import bar_chart, per_day_chart
from rostra.admin.context import admin, require, require_admin, visible_sites, who
from rostra.admin.site_forms import (
    THRESHOLDS,
    TRUST,
    form_defaults,
    form_values,
    settings_from_form,
)
from rostra.admin.web import json_endpoint, json_ok, one, pages, read_form, redirect, render
from rostra.api.staff_auth import Role
from rostra.core.errors import InvalidInput, NotFound, RostraError
from rostra.services.audit_log import Audited
from rostra.services.site_stats import site_stats

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/sites")
@pages
async def sites_page(request: Request) -> Response:
    # GET /admin/sites — the sites this person works on
    staff = await who(request)
    ids = await run_in_threadpool(visible_sites, request, staff)
    sites = [admin(request).services.sites.get(i) for i in ids]
    return render(request, "sites.html", sites=sites, done=request.query_params.get("done"))


@router.get("/sites/new")
@pages
async def new_site_form(request: Request) -> Response:
    # GET /admin/sites/new — administrators only
    staff = await who(request)
    require_admin(staff)
    return render(request, "site_new.html", values={}, error=None)


@router.post("/sites/new")
@pages
async def create_site(request: Request) -> Response:
    # POST /admin/sites/new (form: csrf, id, name, origins)
    staff = await who(request)
    require_admin(staff)
    form = await read_form(request)
    check_csrf(request, form)
    values = {k: one(form, k) for k in ("id", "name", "origins")}
    origins = [o.strip() for o in values["origins"].splitlines() if o.strip()]
    try:
        site = await run_in_threadpool(lambda: admin(request).services.sites.create(
            values["id"], values["name"], origins, audited=Audited(actor_of(staff))))
    except InvalidInput as exc:
        return render(request, "site_new.html", status=422, values=values, error=exc.detail)
    except RostraError as exc:
        return render(request, "site_new.html", status=exc.status, values=values,
                      error=exc.detail)
    return redirect(f"/admin/sites/{site.id}/settings", done="created")


@router.get("/sites/{site_id}/settings")
@pages
async def settings_form(request: Request, site_id: str) -> Response:
    # GET /admin/sites/{id}/settings — owners
    staff = await who(request)
    require(staff, site_id, Role.OWNER)
    site = admin(request).services.sites.get(site_id)
    notify = getattr(request.app.state, "notify", None)
    failures = (await run_in_threadpool(notify.staff_failures, site_id)
                if notify is not None else [])
    return render(request, "site_settings.html", site=site, thresholds=THRESHOLDS,
                  trust_fields=TRUST,
                  defaults=form_defaults(),
                  values=form_values(site.name, site.origins, site.settings), error=None,
                  done=request.query_params.get("done"), alert_failures=failures,
                  **await _sign_in_context(request, site_id))


async def _sign_in_context(request: Request, site_id: str) -> dict[str, Any]:
    services = admin(request).services
    own = await run_in_threadpool(services.site_providers.of_site, site_id)
    unusable = await run_in_threadpool(services.site_providers.unusable, site_id)
    return {"server_providers": services.settings.oidc_providers, "own_providers": own,
            "unusable_providers": unusable,
            "public_url": services.settings.public_url.rstrip("/") or "<public_url>"}


@router.post("/sites/{site_id}/providers")
@pages
async def site_providers(request: Request, site_id: str) -> Response:
    # POST /admin/sites/{id}/providers (form: csrf, op=add|remove, name, ...) — owners
    staff = await who(request)
    require(staff, site_id, Role.OWNER)
    form = await read_form(request)
    check_csrf(request, form)
    providers = admin(request).services.site_providers
    name = one(form, "name")
    audited = Audited(actor_of(staff))
    if one(form, "op") == "remove":
        await run_in_threadpool(lambda: providers.remove(site_id, name, audited=audited))
        return redirect(f"/admin/sites/{site_id}/settings", done="saved")
    await run_in_threadpool(lambda: providers.add(
        site_id, name, one(form, "label"), one(form, "issuer"), one(form, "client_id"),
        (form.get("client_secret") or [""])[0], audited=audited))
    return redirect(f"/admin/sites/{site_id}/settings", done="saved")


@router.post("/sites/{site_id}/settings")
@pages
async def save_settings(request: Request, site_id: str) -> Response:
    # POST /admin/sites/{id}/settings (form: csrf, name, origins, ...) — validated, audited
    staff = await who(request)
    require(staff, site_id, Role.OWNER)
    form = await read_form(request)
    check_csrf(request, form)
    sites = admin(request).services.sites
    site = sites.get(site_id)
    values = {k: one(form, k) for k in form}
    values.setdefault("moderator_digest", "")
    try:
        settings_from_form(site.settings, values)  # refused here, before any write
        origins = [o.strip() for o in values.get("origins", "").splitlines() if o.strip()]
        # The form's changes go onto the settings as stored: keys the form does not show
        # (how readers sign in, ...) stay as they are, even if this worker has not heard
        # of a change made a moment ago elsewhere.
        await run_in_threadpool(lambda: sites.update(
            site_id, name=values.get("name", site.name), origins=origins,
            settings_from=lambda stored: settings_from_form(stored, values),
            audited=Audited(actor_of(staff))))
    except RostraError as exc:  # invalid input, or an origin another site allows
        return render(request, "site_settings.html", status=exc.status, site=site,
                      values=values, thresholds=THRESHOLDS, trust_fields=TRUST,
                      defaults=form_defaults(),
                      error=exc.detail, done=None, alert_failures=[],
                      **await _sign_in_context(request, site_id))
    return redirect(f"/admin/sites/{site_id}/settings", done="saved")


@router.get("/sites/{site_id}")
@pages
async def dashboard(request: Request, site_id: str) -> Response:
    # GET /admin/sites/{id}?days=30 — activity charts
    staff = await who(request)
    require(staff, site_id)
    site = admin(request).services.sites.get(site_id)
    days = _days(request)
    stats = await run_in_threadpool(site_stats, admin(request).services.db, site_id, days)
    return render(
        request, "dashboard.html", site=site, stats=stats, days=days,
        day_chart=per_day_chart(stats.per_day, f"Comments per day on {site.name}"),
        reason_chart=bar_chart([(r["reason"], r["count"]) for r in stats.held_reasons],
                               "Held comments by reason", "c-reasons"),
        thread_chart=bar_chart([((t["title"] or t["key"]), t["comments"])
                                for t in stats.top_threads], "Top threads", "c-threads"),
    )


def _days(request: Request) -> int:
    try:
        days = int(request.query_params.get("days") or 30)
    except ValueError:
        raise InvalidInput("days: a whole number from 1 to 365") from None
    if not 1 <= days <= 365:
        raise InvalidInput("days: a whole number from 1 to 365")
    return days


@router.get("/sites/{site_id}/stats.json")
@json_endpoint
async def stats_json(request: Request, site_id: str) -> Response:
    # GET /admin/sites/{id}/stats.json?days=30 — the dashboard's numbers
    staff = await who(request)
    require(staff, site_id)
    admin(request).services.sites.get(site_id)
    stats = await run_in_threadpool(site_stats, admin(request).services.db, site_id,
                                    _days(request))
    return json_ok(stats.to_json())


@router.get("/sites/{site_id}/staff")
@pages
async def site_staff(request: Request, site_id: str) -> Response:
    # GET /admin/sites/{id}/staff — owners see and change who works on the site
    staff = await who(request)
    require(staff, site_id, Role.OWNER)
    return await _staff_page(request, site_id, None, request.query_params.get("done"))


async def _staff_page(request: Request, site_id: str, error: RostraError | None,
                      done: str | None) -> Response:
    service = admin(request).staff
    site = admin(request).services.sites.get(site_id)
    users = await run_in_threadpool(service.list_users)
    members = [u for u in users if site_id in u.roles]
    readers = await run_in_threadpool(service.readers_tied_on, site_id)
    tied = {u.id: readers.get(u.id, []) for u in members}
    return render(request, "site_staff.html", status=error.status if error else 200,
                  site=site, members=members, tied=tied,
                  error=error.detail if error else None, done=done)


@router.post("/sites/{site_id}/staff/readers")
@pages
async def tie_reader(request: Request, site_id: str) -> Response:
    # POST /admin/sites/{id}/staff/readers (form: csrf, name, subject, op=tie|untie) — the
    # reader account a staff member comments with, for the "Staff" badge
    staff = await who(request)
    require(staff, site_id, Role.OWNER)
    form = await read_form(request)
    check_csrf(request, form)
    service = admin(request).staff
    subject = one(form, "subject").strip()
    untie = one(form, "op") == "untie"
    try:
        account = await run_in_threadpool(service.by_name, one(form, "name"))
        audited = Audited(actor_of(staff))
        if untie:
            if not await run_in_threadpool(
                    lambda: service.unlink_reader(site_id, subject, audited=audited)):
                raise NotFound(f"{subject[:255]!r} is not tied to a staff member")
        else:
            await run_in_threadpool(
                lambda: service.link_reader(account.id, site_id, subject, audited=audited))
    except (InvalidInput, NotFound) as exc:
        return await _staff_page(request, site_id, exc, None)
    return redirect(f"/admin/sites/{site_id}/staff", done="saved")


@router.post("/sites/{site_id}/staff")
@pages
async def grant(request: Request, site_id: str) -> Response:
    # POST /admin/sites/{id}/staff (form: csrf, name, role=owner|moderator|none)
    staff = await who(request)
    require(staff, site_id, Role.OWNER)
    form = await read_form(request)
    check_csrf(request, form)
    service = admin(request).staff
    role = one(form, "role")
    try:
        account = await run_in_threadpool(service.by_name, one(form, "name"))
        await run_in_threadpool(lambda: service.grant(
            account.id, site_id, None if role == "none" else role,
            audited=Audited(actor_of(staff))))
    except (InvalidInput, NotFound) as exc:
        return await _staff_page(request, site_id, exc, None)
    return redirect(f"/admin/sites/{site_id}/staff", done="saved")
