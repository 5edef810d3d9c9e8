"""Staff passkeys through the workspace's own routes, with a software authenticator,
on SQLite and PostgreSQL: added from the account page (CSRF), then signing in alone."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pyotp

from tests.admin.conftest import PASSWORD, StaffMember, parse, staff_service
from tests.conftest import LiveServer
from tests.webauthn_soft import SoftAuthenticator


def _origin(server: LiveServer) -> str:
    return server.settings.public_url.rstrip("/")


def _add(member: StaffMember, server: LiveServer, key: SoftAuthenticator) -> httpx.Response:
    headers = {"X-CSRF-Token": member.csrf, "Accept": "application/json"}
    begun = member.http.post("/admin/account/passkeys/options", json={}, headers=headers)
    assert begun.status_code == 200, begun.text
    options = begun.json()["options"]
    assert options["rp"]["id"] == "127.0.0.1"
    return member.http.post("/admin/account/passkeys", headers=headers, json={
        "handle": begun.json()["handle"], "credential": key.register(options, _origin(server)),
        "name": "Desk key"})


def _passkey_login(http: httpx.Client, server: LiveServer, key: SoftAuthenticator,
                   origin: str | None = None) -> httpx.Response:
    form = parse(http.get("/admin/login"))
    csrf = form.xpath('//button[@id="passkey-sign-in"]/@data-csrf')[0]
    headers = {"Accept": "application/json"}
    begun = http.post("/admin/login/passkey/options", json={"csrf": csrf}, headers=headers)
    assert begun.status_code == 200, begun.text
    answer: dict[str, Any] = key.assert_(begun.json()["options"], origin or _origin(server))
    return http.post("/admin/login/passkey", headers=headers, json={
        "csrf": csrf, "handle": begun.json()["handle"], "credential": answer,
        "next": "/admin/account"})


def test_a_staff_member_adds_a_passkey_and_signs_in_with_it_alone(server: LiveServer) -> None:
    name = "p" + secrets.token_hex(5)
    account = staff_service(server).create_user(name, PASSWORD)
    secret = staff_service(server).enable_totp(account.id)  # a passkey stands for both
    key = SoftAuthenticator()
    with server.client() as http:
        member = StaffMember(name, http)
        form = member.http.get("/admin/login")
        token = parse(form).xpath('//input[@name="csrf"]/@value')[0]
        done = member.http.post("/admin/login", data={
            "csrf": token, "name": name, "password": PASSWORD,
            "code": pyotp.TOTP(secret).now(), "next": "/admin/account"})
        assert done.status_code == 303, done.text
        member.csrf = member.page("/admin/queue").xpath("//main/@data-csrf")[0]
        refused = member.http.post("/admin/account/passkeys/options", json={},
                                   headers={"Accept": "application/json"})
        assert refused.status_code == 403  # no CSRF token: no passkey
        added = _add(member, server, key)
        assert added.status_code == 201, added.text
        page = member.page("/admin/account")
        assert page.xpath('//ul[@class="passkeys"]/li/text()')[0].strip() == "Desk key"
    with server.client() as fresh:
        signed = _passkey_login(fresh, server, key)
        assert signed.status_code == 200, signed.text
        assert signed.json() == {"next": "/admin/account"}
        page = parse(fresh.get("/admin/account"))
        methods = page.xpath('//table[@class="sessions"]/tbody/tr/td[2]/text()')
        assert "passkey" in methods
    with server.client() as phished:
        assert _passkey_login(phished, server, key, "https://evil.example").status_code == 400


def test_a_removed_or_disabled_staff_passkey_signs_no_one_in(server: LiveServer) -> None:
    name = "p" + secrets.token_hex(5)
    account = staff_service(server).create_user(name, PASSWORD)
    key = SoftAuthenticator()
    with server.client() as http:
        member = StaffMember(name, http)
        assert member.login().status_code == 303
        assert _add(member, server, key).status_code == 201
        staff_service(server).set_disabled(account.id, True)
        with server.client() as other:
            assert _passkey_login(other, server, key).status_code == 401
        staff_service(server).set_disabled(account.id, False)
        assert member.login().status_code == 303
        passkey_id = member.page("/admin/account").xpath(
            '//ul[@class="passkeys"]/li/@data-passkey')[0]
        removed = member.post("/admin/account", {"op": "remove_passkey", "passkey": passkey_id})
        assert removed.status_code == 303
        with server.client() as other:
            assert _passkey_login(other, server, key).status_code == 400
