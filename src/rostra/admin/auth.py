"""Staff sign-in for the workspace: the session cookie, its authenticator, CSRF tokens.

The cookie holds a random session token signed with the server's secret (HttpOnly,
SameSite=Strict; over https, Secure and named with the ``__Host-`` prefix, so that no
sibling host can set or shadow it). A request authenticated by the cookie must
prove it comes from our own pages with a CSRF token before it may change anything;
a request with a bearer token carries no ambient authority and needs none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from itsdangerous import BadSignature, Signer
from starlette.responses import Response

from rostra.api.routes import served_over_https
from rostra.api.staff_auth import AUTHENTICATORS, Role, Staff, current_staff
from rostra.core.errors import Forbidden
from rostra.services.staff import StaffAccount, StaffService
from rostra.services.staff_sign_in import SESSION_TTL

COOKIE = "rostra_staff"  # over plain http only (a test or intranet server)
SECURE_COOKIE = "__Host-rostra_staff"  # over https, public_url's or a trusted proxy's
LOGIN_COOKIE = "rostra_login"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionKeys:
    """Signs session cookies and derives CSRF tokens from one secret."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.signer = Signer(secret, salt="rostra.staff.session")

    def cookie_value(self, token: str) -> str:
        return self.signer.sign(token).decode()

    def token_of(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self.signer.unsign(cookie).decode()
        except BadSignature:
            return None

    def csrf(self, bound_to: str) -> str:
        """The CSRF token of a session (or of a login form's nonce)."""
        return hmac.new(self.secret, b"csrf:" + bound_to.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, bound_to: str | None, given: str | None) -> bool:
        return bool(bound_to and given and hmac.compare_digest(self.csrf(bound_to), given))


def staff_of(account: StaffAccount) -> Staff:
    return Staff(id=account.id, name=account.name, is_admin=account.is_admin,
                 roles={site: Role(role) for site, role in account.roles.items()})


def actor_of(staff: Staff) -> str:
    """How a staff member is named in the audit log."""
    return staff.name if staff.id is None else f"{staff.name} (#{staff.id})"


def session_cookie(request: Request) -> str:
    """The session cookie's name: only the ``__Host-`` one counts over https (an older
    ``rostra_staff`` cookie, which lacked Secure, no longer signs anyone in there)."""
    return SECURE_COOKIE if served_over_https(request) else COOKIE


def session_token(request: Request) -> str | None:
    keys: SessionKeys = request.app.state.admin_keys
    return keys.token_of(request.cookies.get(session_cookie(request)))


def session_authenticator(request: Request) -> Staff | None:
    """A signed-in browser. Outside /admin (the staff API), a change must carry the
    session's CSRF token in the X-CSRF-Token header; /admin pages check their forms."""
    if getattr(request.app.state, "staff", None) is None:
        return None  # another app in this process, without the workspace
    token = session_token(request)
    if token is None:
        return None
    service: StaffService = request.app.state.staff
    account = service.session(token)
    if account is None:
        return None
    if (request.method not in SAFE_METHODS and not request.url.path.startswith("/admin")
            and not request.app.state.admin_keys.csrf_ok(token,
                                                          request.headers.get(CSRF_HEADER))):
        return None
    request.state.session_token = token
    return staff_of(account)


def register() -> None:
    """Add the session authenticator once per process (apps share AUTHENTICATORS)."""
    if session_authenticator not in AUTHENTICATORS:
        AUTHENTICATORS.append(session_authenticator)


def signed_in(request: Request) -> Staff:
    """The staff member of this request (401 when none): session or bearer token."""
    return current_staff(request)


def check_csrf(request: Request, form: dict[str, list[str]]) -> None:
    """Refuse a cookie-authenticated change without this session's CSRF token."""
    token = getattr(request.state, "session_token", None)
    if token is None:
        return  # bearer-token request: no ambient authority to abuse
    keys: SessionKeys = request.app.state.admin_keys
    given = (form.get("csrf") or [""])[0] or request.headers.get(CSRF_HEADER)
    if not keys.csrf_ok(token, given):
        raise Forbidden("the form is out of date or came from another site; reload the page "
                        "and try again", code="csrf_failed")


def csrf_for(request: Request) -> str:
    token = getattr(request.state, "session_token", None)
    keys: SessionKeys = request.app.state.admin_keys
    return keys.csrf(token) if token else ""


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    keys: SessionKeys = request.app.state.admin_keys
    name = session_cookie(request)
    response.set_cookie(
        name, keys.cookie_value(token), max_age=int(SESSION_TTL.total_seconds()), path="/",
        httponly=True, samesite="strict", secure=name == SECURE_COOKIE,
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(SECURE_COOKIE, path="/", secure=True, httponly=True,
                           samesite="strict")


def login_nonce(request: Request) -> str:
    """The login form's nonce (double-submit: cookie plus hidden field)."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)


def set_login_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, path="/admin", httponly=True,
                        samesite="strict", secure=served_over_https(request))
