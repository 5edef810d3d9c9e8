"""Servers for the moderation engine's end-to-end tests: the classifier off (fast), an
admin token for the staff API, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import (
    ORIGIN,
    POSTGRES_URL,
    LiveServer,
    Reader,
    _start_live_server,
    create_postgres_database,
    require,
)

ADMIN_TOKEN = "moderation-test-token"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="session")
def mod_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = tmp_path_factory.mktemp("moderation") / "rostra.sqlite3"
    live, server = _start_live_server(f"sqlite:///{path}", "sqlite", classifier="off", rate_limits=True,
                                      admin_token=ADMIN_TOKEN)
    yield live
    server.stop()


@pytest.fixture(scope="session")
def mod_postgres() -> Iterator[LiveServer]:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    live, server = _start_live_server(url, "postgres", classifier="off", rate_limits=True,
                                      admin_token=ADMIN_TOKEN)
    yield live
    server.stop()
    live.services.db.dispose()
    drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def mserver(request: pytest.FixtureRequest) -> LiveServer:
    """A moderation test server, on SQLite and on PostgreSQL."""
    name = "mod_sqlite" if request.param == "sqlite" else "mod_postgres"
    live: LiveServer = request.getfixturevalue(name)
    return live


@pytest.fixture
def http(mserver: LiveServer) -> Iterator[httpx.Client]:
    with mserver.client() as client:
        yield client


def new_site(server: LiveServer, **moderation: Any) -> str:
    site_id = "m" + secrets.token_hex(5)
    server.add_site(site_id, [ORIGIN], moderation=moderation)
    return site_id


@pytest.fixture
def make_site(mserver: LiveServer) -> Any:
    """make_site(**moderation) -> a fresh site id with that moderation policy."""
    return lambda **moderation: new_site(mserver, **moderation)


def reader(http: httpx.Client, site: str, name: str) -> Reader:
    return Reader(name, http, site)
