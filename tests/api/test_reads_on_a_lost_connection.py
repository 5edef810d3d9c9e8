"""A read whose database connection is lost in the middle of a statement (PostgreSQL
restarting or failing over at that moment) is answered from a fresh connection, not
with a 500. The connection is cut by a loopback proxy in front of PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from rostra.services.comments import NewComment, RequestContext
from tests.conftest import (
    ORIGIN,
    POSTGRES_URL,
    CuttingProxy,
    LiveServer,
    _start_live_server,
    create_postgres_database,
    require,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxied_server() -> Iterator[tuple[LiveServer, CuttingProxy]]:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    parts = urlsplit(url)
    proxy = CuttingProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    via = url.replace(parts.netloc, f"{parts.username}@127.0.0.1:{proxy.port}", 1)
    live, server = _start_live_server(via, "postgres")
    try:
        yield live, proxy
    finally:
        server.stop()
        live.services.db.dispose()
        proxy.close()
        drop()


def test_a_get_whose_statement_loses_its_connection_is_answered(
    proxied_server: tuple[LiveServer, CuttingProxy],
) -> None:
    server, proxy = proxied_server
    site = server.add_site("r" + secrets.token_hex(5), [ORIGIN])
    comment = server.services.comments.post(
        NewComment(thread="/lost/", text="read me", site=site, name="Ana"),
        RequestContext(origin=ORIGIN, ip="203.0.113.9")).comment["id"]
    proxy.cut_query = b"WHERE comments.id = $1"  # the comment's own row, as it is read
    with server.client(headers={"Origin": ORIGIN}) as http:
        answer = http.get(f"/api/comments/{comment}")
    assert proxy.cut == 1
    assert answer.status_code == 200, answer.text
    assert answer.json()["comment"]["id"] == comment
