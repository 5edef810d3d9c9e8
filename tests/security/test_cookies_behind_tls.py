"""Cookies are Secure behind the TLS proxy docs/security.md recommends.

``rostra serve`` sees plain http from its proxy: a cookie is Secure when public_url is
https, or when a trusted proxy says the browser came over https (X-Forwarded-Proto); a
peer that is not a trusted proxy cannot say so."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.admin.conftest import PASSWORD, parse, staff_service
from tests.conftest import ORIGIN, LiveServer, running_server

HTTPS = {"X-Forwarded-Proto": "https"}


def _set_cookie(response: httpx.Response, name: str) -> dict[str, str]:
    value = next(v for k, v in response.headers.multi_items()
                 if k == "set-cookie" and v.startswith(f"{name}="))
    first, *attributes = value.split(";")
    found = {part.strip().split("=")[0].lower(): part.strip().partition("=")[2]
             for part in attributes}
    found["value"] = first.partition("=")[2]
    return found


def _login(http: httpx.Client, name: str, headers: dict[str, str],
           login_cookie: str = "rostra_login") -> httpx.Response:
    """Sign in with the cookie sent by hand (the client keeps no Secure cookie on http)."""
    http.cookies.clear()
    form = http.get("/admin/login", headers=headers)
    nonce = _set_cookie(form, login_cookie)
    token = parse(form).xpath('//input[@name="csrf"]/@value')[0]
    http.cookies.clear()
    response = http.post("/admin/login", data={
        "csrf": token, "name": name, "password": PASSWORD, "next": "/admin/queue"},
        headers={**headers, "Cookie": f"{login_cookie}={nonce['value']}"})
    assert response.status_code == 303, response.text[:300]
    http.cookies.clear()
    return response


def _staff(server: LiveServer) -> str:
    name = "tls-" + secrets.token_hex(4)
    staff_service(server).create_user(name, PASSWORD)
    return name


def test_it_makes_the_staff_cookies_secure_when_a_trusted_proxy_says_https(
    live_server: LiveServer
) -> None:
    name = _staff(live_server)
    with live_server.client() as http:
        form = http.get("/admin/login", headers=HTTPS)
        assert "secure" in _set_cookie(form, "rostra_login")
        signed_in = _login(http, name, HTTPS)
        cookie = _set_cookie(signed_in, "__Host-rostra_staff")
        assert "secure" in cookie and cookie["path"] == "/" and "domain" not in cookie
        assert cookie["samesite"].lower() == "strict" and "httponly" in cookie
        queue = http.get("/admin/queue", headers={
            **HTTPS, "Cookie": f"__Host-rostra_staff={cookie['value']}"})
        assert queue.status_code == 200
        # The old name does not keep a session alive where the new one is used.
        old = http.get("/admin/queue", headers={
            **HTTPS, "Cookie": f"rostra_staff={cookie['value']}"})
        assert old.status_code != 200


def test_a_peer_that_is_no_trusted_proxy_cannot_claim_https(live_server: LiveServer) -> None:
    name = _staff(live_server)
    with live_server.client_from("127.0.0.2") as http:
        cookie = _set_cookie(_login(http, name, HTTPS), "rostra_staff")
        assert "secure" not in cookie


@pytest.fixture(scope="module")
def https_server() -> Iterator[LiveServer]:
    with running_server("sqlite", public_url="https://comments.example") as live:
        yield live


def test_it_makes_the_staff_cookies_secure_when_public_url_is_https(
    https_server: LiveServer
) -> None:
    name = _staff(https_server)
    with https_server.client() as http:
        assert "secure" in _set_cookie(http.get("/admin/login"), "rostra_login")
        cookie = _set_cookie(_login(http, name, {}), "__Host-rostra_staff")
        assert "secure" in cookie


def test_it_makes_the_edit_cookie_secure_behind_a_tls_proxy(live_server: LiveServer) -> None:
    site = live_server.add_site("e" + secrets.token_hex(5), [ORIGIN])
    with live_server.client() as http:
        posted = http.post("/api/comments", json={
            "site": site, "thread": "/story", "name": "Ana", "text": "Over https"},
            headers={**HTTPS, "Host": "comments.example", "Origin": ORIGIN})
        assert posted.status_code == 201, posted.text
        comment_id = posted.json()["comment"]["id"]
        cookie = _set_cookie(posted, f"rostra_edit_{comment_id}")
        assert "secure" in cookie and cookie["samesite"].lower() == "none"
