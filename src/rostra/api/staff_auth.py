"""Who a staff request comes from. Authenticators (admin token, sessions, personal API
tokens) register here; the routes ask for a role on a site and get a Staff or a 401/403."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from fastapi import Request

from rostra.core.errors import Forbidden, Unauthorized


class Role(StrEnum):
    OWNER = "owner"  # site settings and staff, plus everything a moderator does
    MODERATOR = "moderator"  # queue, decisions, bans


@dataclass(frozen=True, slots=True)
class Staff:
    id: int | None
    name: str
    is_admin: bool = False
    roles: dict[str, Role] = field(default_factory=dict)

    def can(self, site_id: str, role: Role = Role.MODERATOR) -> bool:
        if self.is_admin:
            return True
        held = self.roles.get(site_id)
        return held is Role.OWNER or (held is not None and role is Role.MODERATOR)

    def sites(self, all_sites: list[str]) -> list[str]:
        return list(all_sites) if self.is_admin else [s for s in all_sites if s in self.roles]


Authenticator = Callable[[Request], "Staff | None"]
AUTHENTICATORS: list[Authenticator] = []


def admin_token_authenticator(request: Request) -> Staff | None:
    """`Authorization: Bearer <admin_token>` acts as a global admin."""
    token = request.app.state.settings.admin_token
    header = request.headers.get("authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return Staff(id=None, name="admin-token", is_admin=True)
    return None


AUTHENTICATORS.append(admin_token_authenticator)


def current_staff(request: Request) -> Staff:
    """The staff member making this request; 401 when none is recognised."""
    for authenticate in AUTHENTICATORS:
        staff = authenticate(request)
        if staff is not None:
            return staff
    raise Unauthorized("staff authentication required", code="unauthorized")


def require_role(staff: Staff, site_id: str, role: Role = Role.MODERATOR) -> None:
    if not staff.can(site_id, role):
        raise Forbidden(f"you are not {role.value} of site {site_id!r}", code="forbidden")
