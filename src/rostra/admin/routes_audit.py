"""The audit log page (/admin/audit) and its JSON (/admin/audit.json)."""

from __future__ import annotations

import dataclasses
import json
from math import ceil
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.admin.context import admin, require, visible_sites, who
from rostra.admin.web import json_endpoint, json_ok, pages, render
from rostra.core.errors import InvalidInput
from rostra.services import audit_log as audit

router = APIRouter(prefix="/admin", include_in_schema=False)


async def _filter(request: Request) -> tuple[audit.AuditFilter, list[str]]:
    staff = await who(request)
    params = dict(request.query_params.items())
    sites = await run_in_threadpool(visible_sites, request, staff)
    scope: tuple[str, ...]
    if params.get("site"):
        require(staff, params["site"])  # another site's log is refused, not empty
        scope = (params["site"],)
    else:
        scope = tuple(sites)
    flt = audit.AuditFilter.parse(params, scope)
    if staff.is_admin and not params.get("site"):
        flt = dataclasses.replace(flt, global_entries=True)
    return flt, sites


@router.get("/audit")
@pages
async def audit_page(request: Request) -> Response:
    # GET /admin/audit?site=&actor=&action=&target=&since=&until=&page=
    try:
        flt, sites = await _filter(request)
        error = None
    except InvalidInput as exc:
        flt, sites = audit.AuditFilter(sites=()), []
        error = exc.detail
    db = admin(request).services.db
    rows, total = await run_in_threadpool(audit.entries, db, flt)
    actions = await run_in_threadpool(audit.known_actions, db, flt.sites)
    params = dict(request.query_params.items())
    return render(request, "audit.html", rows=rows, total=total, flt=flt, params=params,
                  sites=sites, actions=actions, error=error,
                  pages=max(1, ceil(total / audit.PAGE_SIZE)),
                  page_query=urlencode({k: v for k, v in params.items() if k != "page" and v}),
                  dumps=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True))


@router.get("/audit.json")
@json_endpoint
async def audit_json(request: Request) -> Response:
    # GET /admin/audit.json?... — the same entries as JSON
    flt, _sites = await _filter(request)
    rows, total = await run_in_threadpool(audit.entries, admin(request).services.db, flt)
    for row in rows:
        row["created_at"] = row["created_at"].isoformat()
    return json_ok({"entries": rows, "total": total})
