"""Servers for the moderation engine's end-to-end tests: the classifier off (fast), an
admin token for the staff API, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ORIGIN, LiveServer, Reader, running_server

ADMIN_TOKEN = "moderation-test-token"
STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="session")
def mod_sqlite() -> Iterator[LiveServer]:
    with running_server("sqlite", classifier="off", rate_limits=True,
                        admin_token=ADMIN_TOKEN) as live:
        yield live


@pytest.fixture(scope="session")
def mod_postgres() -> Iterator[LiveServer]:
    with running_server("postgres", classifier="off", rate_limits=True,
                        admin_token=ADMIN_TOKEN) as live:
        yield live


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
