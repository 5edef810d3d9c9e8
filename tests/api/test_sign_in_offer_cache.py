"""What a site offers for signing in (``GET /auth/providers``, on every widget load) is
read from the database once, then from each server's memory; a change shows at once on
the server that made it (SQLite and PostgreSQL) and, over the change bus, on the others
(PostgreSQL). Here memory is trusted for an hour, so what shows came from an
invalidation, not from the memory's expiry."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from rostra.services.personal_data import PersonalData
from tests.api.test_change_bus import bus_overrides, two_servers, within
from tests.api.test_passkeys import _reader, _register
from tests.conftest import ORIGIN, LiveServer, statements_on
from tests.webauthn_soft import SoftAuthenticator

ISSUER = "https://id.news.example"


@contextmanager
def long_memory(*servers: LiveServer) -> Iterator[None]:
    caches = [cache for s in servers
              for cache in (s.services.site_providers.cache, s.services.passkeys.cache)]
    before = [cache.ttl for cache in caches]
    for cache in caches:
        cache.ttl = 3600.0
    try:
        yield
    finally:
        for cache, ttl in zip(caches, before, strict=True):
            cache.ttl = ttl


def _offer(http: httpx.Client, site: str) -> dict[str, Any]:
    response = http.get("/auth/providers", params={"site": site})
    assert response.status_code == 200, response.text
    offer: dict[str, Any] = response.json()
    return offer


def _names(http: httpx.Client, site: str) -> list[str]:
    return [p["name"] for p in _offer(http, site)["providers"]]


def test_the_offer_is_read_from_memory_after_the_first_load(server: LiveServer) -> None:
    site = server.add_site("o" + secrets.token_hex(5), [ORIGIN])
    with server.client() as http, long_memory(server):
        with statements_on(server, "site_oidc_providers") as providers, \
                statements_on(server, "passkeys") as passkeys:
            first = _offer(http, site)
        assert first == {"providers": [], "email": False, "passkeys": False}
        assert providers and passkeys  # the first load reads both
        with statements_on(server, "site_oidc_providers") as providers, \
                statements_on(server, "passkeys") as passkeys:
            for _ in range(3):
                assert _offer(http, site) == first
        assert providers == passkeys == []


def test_a_change_on_this_server_shows_at_once(server: LiveServer) -> None:
    site = server.add_site("o" + secrets.token_hex(5), [ORIGIN])
    own = server.services.site_providers
    with server.client() as http, long_memory(server):
        assert _names(http, site) == []
        own.add(site, "newsroom", "Newsroom ID", ISSUER, "rostra")
        assert _names(http, site) == [f"{site}.newsroom"]
        assert _offer(http, site)["passkeys"] is True  # a provider to sign in with first
        own.remove(site, "newsroom")
        assert _names(http, site) == []
        assert _offer(http, site)["passkeys"] is False
        # The first passkey of one of its readers, then that reader erased.
        token, email = _reader(server, site)
        assert _register(http, site, token, SoftAuthenticator()).status_code == 201
        assert _offer(http, site)["passkeys"] is True
        server.services.sites.update(site, settings={"sign_in": {"passkeys": False}})
        assert _offer(http, site)["passkeys"] is False
        server.services.sites.update(site, settings={"sign_in": {"passkeys": True}})
        assert _offer(http, site)["passkeys"] is True
        PersonalData(server.services.comments).forget(email, actor="test")
        assert _offer(http, site)["passkeys"] is False


@pytest.mark.postgres
@pytest.mark.parametrize("transport", ["postgresql", "redis"])
def test_a_change_on_another_server_shows_over_the_bus(transport: str) -> None:
    with two_servers(**bus_overrides(transport)) as (a, b), a.client() as ha, \
            b.client() as hb, long_memory(a, b):
        site = a.add_site("o" + secrets.token_hex(5), [ORIGIN])
        within(10, lambda: hb.get("/auth/providers", params={"site": site}).status_code == 200)
        assert _offer(hb, site) == {"providers": [], "email": False, "passkeys": False}
        a.services.site_providers.add(site, "newsroom", "Newsroom ID", ISSUER, "rostra")
        within(10, lambda: _names(hb, site) == [f"{site}.newsroom"])
        a.services.site_providers.remove(site, "newsroom")
        within(10, lambda: _names(hb, site) == [])
        assert _offer(hb, site)["passkeys"] is False
        token, email = _reader(a, site)
        assert _register(ha, site, token, SoftAuthenticator()).status_code == 201
        within(10, lambda: _offer(hb, site)["passkeys"] is True)
        PersonalData(a.services.comments).forget(email, actor="test")
        within(10, lambda: _offer(hb, site)["passkeys"] is False)
