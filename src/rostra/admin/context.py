"""Per-request helpers: who is asking, which sites they may see, the app's parts."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from rostra.api.staff_auth import Role, Staff, current_staff, require_role
from rostra.core.errors import Forbidden
from rostra.services.container import Services
from rostra.services.queue import QueueReader
from rostra.services.staff import StaffService
from rostra.services.workspace import Workspace


@dataclass
class Admin:
    """The workspace's parts for one running app (app.state.admin)."""

    services: Services
    staff: StaffService
    reader: QueueReader
    workspace: Workspace


def admin(request: Request) -> Admin:
    value: Admin = request.app.state.admin
    return value


async def who(request: Request) -> Staff:
    """The signed-in staff member (401 otherwise), remembered for the templates."""
    staff = await run_in_threadpool(current_staff, request)
    request.state.staff = staff
    return staff


def visible_sites(request: Request, staff: Staff) -> list[str]:
    return staff.sites([s.id for s in admin(request).services.sites.list()])


def require(staff: Staff, site_id: str, role: Role = Role.MODERATOR) -> None:
    """403 unless ``staff`` holds ``role`` on ``site_id`` (an admin holds every role)."""
    require_role(staff, site_id, role)


def require_admin(staff: Staff) -> None:
    if not staff.is_admin:
        raise Forbidden("only an administrator may do this", code="forbidden")
