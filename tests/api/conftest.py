"""Fixtures of the sign-in tests: an OpenID Connect provider on a loopback port, and a
server per test module and backend (SQLite, PostgreSQL) that offers it as its own
provider ``testid``. A module that wants other server providers overrides
``server_providers``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, running_server
from tests.oidc_provider import LoopbackProvider


@pytest.fixture(scope="module")
def server_providers(provider: LoopbackProvider) -> list[dict[str, str]]:
    """The server's setting ``oidc_providers``: the loopback provider, as ``testid``."""
    return [{"name": "testid", "label": "Test ID", "issuer": provider.issuer,
             "client_id": provider.client_id, "client_secret": provider.client_secret}]


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest,
         server_providers: list[dict[str, str]]) -> Iterator[LiveServer]:
    with running_server(request.param, oidc_providers=server_providers) as server:
        yield server
