"""Staff accounts, for administrators: /admin/staff."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.admin.auth import actor_of, check_csrf
from rostra.admin.context import admin, require_admin, who
from rostra.admin.web import one, pages, read_form, redirect, render
from rostra.core.errors import RostraError
from rostra.services.audit_log import Audited

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/staff")
@pages
async def staff_page(request: Request) -> Response:
    # GET /admin/staff — every account and its roles
    staff = await who(request)
    require_admin(staff)
    users = await run_in_threadpool(admin(request).staff.list_users)
    return render(request, "staff.html", users=users, error=None, values={},
                  done=request.query_params.get("done"))


@router.post("/staff")
@pages
async def create_staff(request: Request) -> Response:
    # POST /admin/staff (form: csrf, name, password, admin) — a new account
    staff = await who(request)
    require_admin(staff)
    form = await read_form(request)
    check_csrf(request, form)
    service = admin(request).staff
    name = one(form, "name")
    try:
        await run_in_threadpool(lambda: service.create_user(
            name, (form.get("password") or [""])[0], is_admin=one(form, "admin") in ("1", "on"),
            audited=Audited(actor_of(staff))))
    except RostraError as exc:
        users = await run_in_threadpool(service.list_users)
        return render(request, "staff.html", status=exc.status, users=users, error=exc.detail,
                      values={"name": name}, done=None)
    return redirect("/admin/staff", done="created")
