"""Single sign-on payloads that are signed right but say something wrong, or are not
payloads at all: each refused with what is wrong, and nothing posted (SQLite and
PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

import httpx
import pytest

from tests.api.test_sso import post, signed
from tests.conftest import LiveServer


def signed_body(secret: str, body: bytes) -> str:
    """``body`` (any bytes) signed as a host site signs a payload."""
    text = base64.urlsafe_b64encode(body).rstrip(b"=")
    mac = hmac.new(secret.encode(), text, hashlib.sha256).digest()
    return text.decode() + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _thread_empty(http: httpx.Client, site: str) -> bool:
    page = http.get("/api/comments", params={"site": site, "thread": "/sso-payloads/"})
    return page.status_code == 404 or page.json()["comments"] == []


@pytest.mark.parametrize(("payload", "status", "detail"), [
    (lambda s: signed(s, id="a", name="A", email="ana at example.org"), 401,
     "sign-in: 'email' is not an email address"),
    (lambda s: signed(s, id="a", name="A", email="ana @example.org"), 401,
     "sign-in: 'email' is not an email address"),
    (lambda s: signed(s, id="a", name="A", website="javascript:alert(1)"), 422,
     "sign-in: 'website' must be an http or https address"),
    (lambda s: signed(s, id="a", name="A", exp=True), 401,
     "sign-in: the payload has no 'exp' (expiry, unix seconds)"),
    (lambda s: signed(s, id="a", name="A", exp="tomorrow"), 401,
     "sign-in: the payload has no 'exp' (expiry, unix seconds)"),
    (lambda s: signed_body(s, b"not json at all"), 401,
     "sign-in: the payload is not base64url JSON"),
    (lambda s: signed_body(s, b'["a", "A"]'), 401, "sign-in: the payload is not a JSON object"),
    (lambda s: signed(s, id="a", name="A").partition(".")[0] + ".abcde", 401,
     "sign-in: not a sign-on payload"),
], ids=["email-no-at", "email-space", "website-javascript", "exp-bool", "exp-text",
        "not-json", "not-object", "signature-not-base64"])
def test_it_refuses_a_payload_that_says_something_wrong(
    server: LiveServer, site: str, http: httpx.Client, payload: Callable[[str], str], status: int,
    detail: str
) -> None:
    secret = server.services.accounts.make_secret(site)
    response = post(http, site, "/sso-payloads/", "Hello", payload(secret))
    assert response.status_code == status, response.text
    assert response.json()["detail"] == detail
    assert _thread_empty(http, site)


def test_it_refuses_payloads_once_the_site_turns_single_sign_on_off(
    server: LiveServer, site: str, http: httpx.Client
) -> None:
    secret = server.services.accounts.make_secret(site)
    payload = signed(secret, id="a", name="A", exp=int(time.time()) + 600)
    assert post(http, site, "/sso-payloads/", "While it is on", payload).status_code == 201
    server.services.accounts.disable(site)
    refused = post(http, site, "/sso-payloads/", "After it is off", payload)
    assert refused.status_code == 401
    assert refused.json()["code"] == "sso_not_enabled"
