"""Signing in and out, and one's own account: /admin/login, /admin/logout, /admin/account."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.admin.auth import (
    LOGIN_COOKIE,
    actor_of,
    check_csrf,
    clear_session_cookie,
    login_nonce,
    set_login_cookie,
    set_session_cookie,
)
from rostra.admin.context import admin, who
from rostra.admin.web import (
    json_endpoint,
    json_ok,
    one,
    pages,
    read_form,
    redirect,
    render,
    safe_next,
)
from rostra.api.routes import client_ip
from rostra.core.errors import Forbidden, InvalidInput, RostraError, Unauthorized
from rostra.core.ids import parse_id
from rostra.services.audit_log import Audited

router = APIRouter(prefix="/admin", include_in_schema=False)


def _login_page(request: Request, status: int = 200, error: str | None = None,
                name: str = "") -> Response:
    nonce = login_nonce(request)
    keys = request.app.state.admin_keys
    response = render(request, "login.html", status=status, error=error, name=name,
                      login_csrf=keys.csrf("login:" + nonce),
                      next=safe_next(request.query_params.get("next")))
    set_login_cookie(request, response, nonce)
    return response


@router.get("/login")
@pages
async def login_form(request: Request) -> Response:
    # GET /admin/login?next= — the sign-in form
    return _login_page(request)


@router.post("/login")
@pages
async def login(request: Request) -> Response:
    # POST /admin/login (form: csrf, name, password, code) — rate-limited per name and address
    form = await read_form(request)
    keys = request.app.state.admin_keys
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not keys.csrf_ok("login:" + nonce if nonce else None, one(form, "csrf")):
        return _login_page(request, 403, "The sign-in form had expired. Please try again.")
    name = one(form, "name")
    staff = admin(request).staff
    ip = client_ip(request, admin(request).services.settings.trusted_proxies)
    try:
        signed = await run_in_threadpool(
            lambda: staff.login(name, (form.get("password") or [""])[0], ip=ip,
                                totp_code=one(form, "code") or None,
                                device=request.headers.get("user-agent")))
    except RostraError as exc:
        status = 401 if isinstance(exc, Unauthorized) else exc.status
        message = "Wrong name, password or code." if isinstance(exc, Unauthorized) else exc.detail
        page = _login_page(request, status, message, name)
        retry_after = exc.extra.get("retry_after")
        if retry_after is not None:  # the login limit: as the API's 429s say it
            page.headers["Retry-After"] = str(retry_after)
        return page
    response = redirect(safe_next(one(form, "next")))
    set_session_cookie(request, response, signed.token)
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/logout")
@pages
async def logout(request: Request) -> Response:
    # POST /admin/logout (form: csrf) — ends this session
    await who(request)
    form = await read_form(request)
    check_csrf(request, form)
    token = getattr(request.state, "session_token", None)
    if token:
        await run_in_threadpool(admin(request).staff.logout, token)
    response = redirect("/admin/login")
    clear_session_cookie(response)
    return response


@router.get("/account")
@pages
async def account_page(request: Request) -> Response:
    # GET /admin/account — change password, second factor
    staff = await who(request)
    if staff.id is None:
        raise InvalidInput("the admin token has no account; sign in with a staff account")
    account = await run_in_threadpool(admin(request).staff.get, staff.id)
    return render(request, "account.html", account=account,
                  done=request.query_params.get("done"), secret=None, error=None,
                  sessions=await _sessions(request, staff.id),
                  passkeys=await _passkeys(request, staff.id))


def _relying_party(request: Request) -> tuple[str, str]:
    """(domain, origin) staff passkeys are made for and checked against: public_url's,
    else this request's (the browser checks the page's origin itself)."""
    base = admin(request).services.settings.public_url or str(request.base_url)
    parts = urlsplit(base)
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidInput("a JSON object is expected") from None
    if not isinstance(data, dict):
        raise InvalidInput("a JSON object is expected")
    return data


@router.post("/login/passkey/options")
@json_endpoint
async def passkey_login_options(request: Request) -> Response:
    # POST /admin/login/passkey/options (JSON: csrf of the login form) — a challenge
    data = await _json(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not request.app.state.admin_keys.csrf_ok("login:" + nonce if nonce else None,
                                                str(data.get("csrf") or "")):
        raise Forbidden("the sign-in form had expired; reload it", code="csrf_failed")
    rp_id, _ = _relying_party(request)
    begun = await run_in_threadpool(admin(request).services.passkeys.staff_sign_in_options,
                                    rp_id)
    return json_ok({"handle": begun.handle, "options": begun.options})


@router.post("/login/passkey")
@json_endpoint
async def passkey_login(request: Request) -> Response:
    # POST /admin/login/passkey (JSON: csrf, handle, credential, next) — signs in
    data = await _json(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    keys = request.app.state.admin_keys
    if not keys.csrf_ok("login:" + nonce if nonce else None, str(data.get("csrf") or "")):
        raise Forbidden("the sign-in form had expired; reload it", code="csrf_failed")
    rp_id, origin = _relying_party(request)
    services = admin(request).services
    user_id = await run_in_threadpool(
        lambda: services.passkeys.staff_sign_in(str(data.get("handle") or ""),
                                                data.get("credential"), rp_id=rp_id,
                                                origin=origin))
    staff = admin(request).staff
    # open_session refuses a disabled account (401 login_failed).
    signed = await run_in_threadpool(lambda: staff.open_session(
        user_id, "passkey", ip=client_ip(request, services.settings.trusted_proxies),
        device=request.headers.get("user-agent")))
    response = json_ok({"next": safe_next(str(data.get("next") or ""))})
    set_session_cookie(request, response, signed.token)
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/account/passkeys/options")
@json_endpoint
async def passkey_options(request: Request) -> Response:
    # POST /admin/account/passkeys/options (X-CSRF-Token) — a challenge to make one
    staff = await who(request)
    check_csrf(request, {})
    if staff.id is None:
        raise InvalidInput("the admin token has no account")
    rp_id, _ = _relying_party(request)
    begun = await run_in_threadpool(admin(request).services.passkeys.staff_register_options,
                                    staff.id, staff.name, rp_id)
    return json_ok({"handle": begun.handle, "options": begun.options})


@router.post("/account/passkeys")
@json_endpoint
async def passkey_add(request: Request) -> Response:
    # POST /admin/account/passkeys (X-CSRF-Token; JSON: handle, credential, name)
    staff = await who(request)
    check_csrf(request, {})
    if staff.id is None:
        raise InvalidInput("the admin token has no account")
    data = await _json(request)
    rp_id, origin = _relying_party(request)
    user_id = staff.id
    added = await run_in_threadpool(lambda: admin(request).services.passkeys.staff_register(
        user_id, str(data.get("handle") or ""), data.get("credential"), rp_id=rp_id,
        origin=origin, name=str(data.get("name") or "") or None,
        device=request.headers.get("user-agent"), audited=Audited(actor_of(staff))))
    return json_ok({"id": added.id, "name": added.name}, 201)


async def _passkeys(request: Request, user_id: int) -> list[Any]:
    return await run_in_threadpool(admin(request).services.passkeys.of_staff, user_id)


async def _sessions(request: Request, user_id: int) -> list[Any]:
    token = getattr(request.state, "session_token", None)
    return await run_in_threadpool(admin(request).staff.sessions_of, user_id, token)


@router.post("/account")
@pages
async def account_change(request: Request) -> Response:
    # POST /admin/account (form: csrf, op=password|totp_on|totp_confirm|totp_off, ...)
    staff = await who(request)
    form = await read_form(request)
    check_csrf(request, form)
    if staff.id is None:
        raise InvalidInput("the admin token has no account")
    service = admin(request).staff
    account = await run_in_threadpool(service.get, staff.id)
    op = one(form, "op")
    secret = None
    error = None
    user_id = account.id
    audited = Audited(actor_of(staff))  # the account's own changes are audited
    token = getattr(request.state, "session_token", None)  # the session changes keep
    try:
        if op == "password":
            new = (form.get("new_password") or [""])[0]
            if new != (form.get("repeat") or [""])[0]:
                raise InvalidInput("the two new passwords differ")
            await run_in_threadpool(lambda: service.login(
                account.name, (form.get("password") or [""])[0], ip=None,
                totp_code=one(form, "code") or None))
            await run_in_threadpool(lambda: service.set_password(user_id, new,
                                                                 audited=audited))
            response = redirect("/admin/login")
            clear_session_cookie(response)
            return response
        if op == "end_session":
            handle = one(form, "session")
            if not await run_in_threadpool(lambda: service.end_session(
                    user_id, handle, audited=audited)):
                raise InvalidInput("no such session on this account")
            return redirect("/admin/account?done=session")
        if op == "remove_passkey":
            passkey_id = parse_id(one(form, "passkey"))
            if passkey_id is None:
                raise InvalidInput("passkey: an id")
            await run_in_threadpool(lambda: admin(request).services.passkeys.remove_staff(
                user_id, passkey_id, audited=audited))
            return redirect("/admin/account?done=passkey_removed")
        if op == "end_others":
            await run_in_threadpool(lambda: service.end_sessions(user_id, keep_token=token,
                                                                 audited=audited))
            return redirect("/admin/account?done=sessions")
        if op in ("totp_on", "totp_off"):
            # Setting up, replacing or dropping the second factor asks for the password
            # (and the code, when there is one), as a new password does: a session alone
            # is not enough to change how the account signs in.
            await run_in_threadpool(lambda: service.reauthenticate(
                user_id, (form.get("password") or [""])[0], one(form, "code") or None))
            if op == "totp_on":  # the new secret waits for a code from it
                secret = await run_in_threadpool(service.begin_totp, user_id)
            else:
                await run_in_threadpool(lambda: service.disable_totp(
                    user_id, keep_token=token, audited=audited))
                return redirect("/admin/account?done=totp_off")
        elif op == "totp_confirm":
            await run_in_threadpool(lambda: service.confirm_totp(
                user_id, one(form, "code"), keep_token=token, audited=audited))
            return redirect("/admin/account?done=totp_on")
        else:
            raise InvalidInput("op: password, totp_on, totp_confirm, totp_off, end_session, "
                               "end_others or remove_passkey")
    except RostraError as exc:
        error = exc.detail if not isinstance(exc, Unauthorized) else (
            "Wrong current password or code." if account.totp else "Wrong current password.")
    account = await run_in_threadpool(service.get, staff.id)
    uri = None
    if secret:
        import pyotp

        uri = pyotp.TOTP(secret).provisioning_uri(name=account.name, issuer_name="Rostra")
    return render(request, "account.html", status=422 if error else 200, account=account,
                  done=None, secret=secret, uri=uri, error=error,
                  sessions=await _sessions(request, staff.id),
                  passkeys=await _passkeys(request, staff.id))
