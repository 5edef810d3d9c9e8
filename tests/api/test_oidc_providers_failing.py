"""OpenID Connect providers that fail: metadata that is missing, wrong or unreachable, a
token endpoint that refuses or answers without an ID token. Each sign-in fails with what
went wrong and signs nobody in. And ID tokens without a name or a verified address."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from rostra.store.account_tables import reader_accounts
from tests.api.test_oidc import sign_in
from tests.conftest import ORIGIN, LiveServer, ThreadedServer, free_port, running_server
from tests.oidc_provider import LoopbackProvider

# Behaviours of the failing provider, one issuer path each.
KINDS = ("nokey", "otheriss", "array", "broken", "refuses", "noid", "silent")


class FailingProvider:
    """Issuers http://127.0.0.1:PORT/<kind>, each failing its own way."""

    def __init__(self) -> None:
        self.closed_port = free_port()  # nothing listens there
        self.server = ThreadedServer(self.app())

    def issuer(self, kind: str) -> str:
        return f"{self.server.url}/{kind}"

    def app(self) -> Starlette:
        async def discovery(request: Request) -> Response:
            kind = request.path_params["kind"]
            issuer = self.issuer(kind)
            meta: dict[str, Any] = {
                "issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks"}
            if kind == "nokey":
                del meta["jwks_uri"]
            elif kind == "otheriss":
                meta["issuer"] = "https://id.elsewhere.example"
            elif kind == "array":
                return JSONResponse([meta])
            elif kind == "broken":
                return Response("maintenance", status_code=503)
            elif kind == "silent":
                meta["token_endpoint"] = f"http://127.0.0.1:{self.closed_port}/token"
            return JSONResponse(meta)

        async def authorize(request: Request) -> Response:
            q = request.query_params
            code = secrets.token_urlsafe(8)
            return RedirectResponse(
                f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

        async def token(request: Request) -> Response:
            if request.path_params["kind"] == "refuses":
                return JSONResponse({"error": "server_error"}, status_code=500)
            return JSONResponse({"access_token": "unused", "token_type": "Bearer"})

        return Starlette(routes=[
            Route("/{kind}/.well-known/openid-configuration", discovery),
            Route("/{kind}/authorize", authorize),
            Route("/{kind}/token", token, methods=["POST"]),
        ])


@pytest.fixture(scope="module")
def providers() -> Iterator[tuple[FailingProvider, LoopbackProvider]]:
    failing = FailingProvider()
    failing.server.start()
    good = LoopbackProvider().start()
    yield failing, good
    good.stop()
    failing.server.stop()


@pytest.fixture(scope="module")
def live(providers: tuple[FailingProvider, LoopbackProvider]) -> Iterator[LiveServer]:
    failing, good = providers
    configured = [{"name": kind, "label": kind, "issuer": failing.issuer(kind),
                   "client_id": "rostra-test", "client_secret": "s3cret"} for kind in KINDS]
    configured.append({"name": "testid", "label": "Test ID", "issuer": good.issuer,
                       "client_id": good.client_id, "client_secret": good.client_secret})
    configured.append({"name": "down", "label": "Down",
                       "issuer": f"http://127.0.0.1:{failing.closed_port}",
                       "client_id": "rostra-test", "client_secret": "s3cret"})
    with running_server("sqlite", oidc_providers=configured) as server:
        yield server


@pytest.fixture
def site(live: LiveServer) -> str:
    return live.add_site("f" + secrets.token_hex(5), [ORIGIN])


def _accounts(live: LiveServer, site: str) -> list[Any]:
    with live.services.db.read() as conn:
        return list(conn.execute(select(reader_accounts).where(reader_accounts.c.site_id == site)))


@pytest.mark.parametrize(("kind", "detail"), [
    ("nokey", "nokey: the provider's metadata has no jwks_uri"),
    ("otheriss", "otheriss: the metadata names another issuer"),
    ("array", "array: {issuer}/.well-known/openid-configuration is not a JSON object"),
    ("broken", "broken: cannot read {issuer}/.well-known/openid-configuration"),
    ("down", "down: cannot read {issuer}/.well-known/openid-configuration"),
])
def test_a_provider_whose_metadata_fails_starts_no_sign_in(
    live: LiveServer, site: str, providers: tuple[FailingProvider, LoopbackProvider],
    kind: str, detail: str
) -> None:
    failing, _ = providers
    issuer = (f"http://127.0.0.1:{failing.closed_port}" if kind == "down"
              else failing.issuer(kind))
    with httpx.Client(base_url=live.url) as popup:
        started = popup.get(f"/auth/{kind}/start", params={"site": site, "origin": ORIGIN})
    assert started.status_code == 400
    assert started.json()["code"] == "sign_in_failed"
    assert started.json()["detail"] == detail.format(issuer=issuer)


@pytest.mark.parametrize(("kind", "detail"), [
    ("refuses", "refuses: the provider refused the code (HTTP 500)"),
    ("noid", "noid: no ID token in the answer"),
    ("silent", "silent: the provider did not answer"),
])
def test_a_token_endpoint_that_fails_signs_nobody_in(
    live: LiveServer, site: str, kind: str, detail: str
) -> None:
    status, message, page = _sign_in_with(live, site, kind)
    assert status == 200
    assert message == {"rostra": "sign-in-failed", "code": "sign_in_failed"}
    assert detail in page
    assert _accounts(live, site) == []


def _sign_in_with(live: LiveServer, site: str, name: str) -> tuple[int, dict[str, Any], str]:
    """tests.api.test_oidc.sign_in, for a provider other than "testid"."""
    with httpx.Client(base_url=live.url) as popup:
        started = popup.get(f"/auth/{name}/start", params={"site": site, "origin": ORIGIN})
        assert started.status_code == 302, started.text
        approved = httpx.get(started.headers["location"])
        assert approved.status_code == 302, approved.text
        page = popup.get(approved.headers["location"])
    found = re.search(r"const d = (\{.*?\});", page.text)
    assert found, page.text
    return page.status_code, json.loads(found.group(1))["message"], page.text


@pytest.mark.parametrize(("claims", "name", "email"), [
    ({"sub": "1", "preferred_username": "olga_p", "email": "olga@id.example",
      "email_verified": False}, "olga_p", ""),
    ({"sub": "2", "given_name": "Olga", "email": "olga@id.example"}, "Olga", ""),
    ({"sub": "3", "name": "  ", "email": "olga.p@id.example", "email_verified": True},
     "olga.p", "olga.p@id.example"),
    ({"sub": "4"}, "Reader", ""),
], ids=["username-unverified", "given-name", "blank-name", "nothing"])
def test_an_id_token_without_a_name_or_a_verified_address(
    live: LiveServer, site: str, providers: tuple[FailingProvider, LoopbackProvider],
    claims: dict[str, Any], name: str, email: str
) -> None:
    _, good = providers
    usual, good.claims = good.claims, claims
    try:
        _, message, _ = sign_in(live, site)
    finally:
        good.claims = usual
    assert message["rostra"] == "signed-in", message
    assert (message["name"], message["email"]) == (name, email)
    [account] = _accounts(live, site)
    assert (account.subject, account.name, account.email) == (f"testid:{claims['sub']}", name,
                                                               email or None)
