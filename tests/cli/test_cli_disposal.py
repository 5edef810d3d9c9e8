"""Every command closes what it opened: run one after another in one process (as a
test, a script or an embedding does), the commands leave no database connection open,
on a SQLite file and on PostgreSQL, whether they succeed or refuse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event
from sqlalchemy.pool import Pool

from rostra.cli import main

SECRET_KEY = "a-secret-key-for-the-disposal-test-0123456789"


class OpenConnections:
    """Database connections (DBAPI) opened and not closed since the count began."""

    def __init__(self) -> None:
        self.opened: set[int] = set()

    def connect(self, dbapi: Any, _record: Any) -> None:
        self.opened.add(id(dbapi))

    def close(self, dbapi: Any, _record: Any) -> None:
        self.opened.discard(id(dbapi))

    def close_detached(self, dbapi: Any) -> None:
        self.opened.discard(id(dbapi))


@pytest.fixture
def open_connections() -> Iterator[OpenConnections]:
    count = OpenConnections()
    event.listen(Pool, "connect", count.connect)
    event.listen(Pool, "close", count.close)
    event.listen(Pool, "close_detached", count.close_detached)
    try:
        yield count
    finally:
        event.remove(Pool, "connect", count.connect)
        event.remove(Pool, "close", count.close)
        event.remove(Pool, "close_detached", count.close_detached)


def test_no_command_leaves_a_database_connection_open(
    database_url: str, tmp_path: Path, open_connections: OpenConnections
) -> None:
    password = tmp_path / "password"
    password.write_text("a long enough password\n", encoding="utf-8")
    secret = tmp_path / "client-secret"
    secret.write_text("the-client-secret\n", encoding="utf-8")
    export = tmp_path / "export.jsonl"
    commands: list[tuple[list[str], int]] = [
        (["db", "upgrade"], 0),
        (["site", "add", "gazette", "--name", "The Gazette", "--origin",
          "https://gazette.example"], 0),
        (["site", "add", "gazette", "--name", "Again"], 1),  # refused
        (["site", "list"], 0),
        (["site", "origin", "add", "gazette", "https://www.gazette.example"], 0),
        (["site", "origin", "list", "gazette"], 0),
        (["site", "origin", "remove", "gazette", "https://www.gazette.example"], 0),
        (["site", "origin", "list", "nowhere"], 1),
        (["site", "sso", "gazette"], 0),
        (["site", "sso", "gazette", "--off"], 0),
        (["site", "sso", "nowhere"], 1),
        (["site", "sign-in", "gazette", "--no-email"], 0),
        (["site", "sign-in", "nowhere"], 1),
        (["site", "provider", "add", "gazette", "kc", "--label", "KC", "--issuer",
          "https://id.example", "--client-id", "comments", "--client-secret-file",
          str(secret)], 0),
        (["site", "provider", "add", "nowhere", "kc", "--label", "KC", "--issuer",
          "https://id.example", "--client-id", "comments"], 1),
        (["site", "provider", "list", "gazette"], 0),
        (["site", "provider", "remove", "gazette", "kc"], 0),
        (["site", "provider", "remove", "gazette", "kc"], 1),
        (["site", "move", "https://gazette.example", "https://news.gazette.example"], 0),
        (["user", "add", "ed", "--site", "gazette", "--role", "owner", "--password-file",
          str(password)], 0),
        (["user", "add", "ed", "--password-file", str(password)], 1),
        (["user", "list"], 0),
        (["user", "grant", "ed", "--site", "gazette", "--role", "moderator"], 0),
        (["user", "grant", "nobody", "--site", "gazette", "--role", "moderator"], 1),
        (["user", "reader", "ed", "--site", "gazette"], 0),
        (["user", "password", "ed", "--password-file", str(password)], 0),
        (["user", "totp-off", "ed"], 0),
        (["privacy", "export", "ana@example.org"], 0),
        (["privacy", "forget", "ana@example.org", "--yes"], 0),
        (["report", "dsa", "--from", "2026-01-01", "--to", "2026-01-31", "--format",
          "json"], 0),
        (["report", "dsa", "--from", "2026-01-01", "--to", "2026-01-31", "--site",
          "nowhere"], 1),
        (["secrets", "status"], 0),
        (["secrets", "seal"], 0),
        (["secrets", "unseal"], 0),
        (["export", str(export)], 0),
        (["import", "rostra", str(export), "--site", "copy"], 1),  # its origin is taken
        (["worker", "--once"], 0),
        (["doctor"], 0),
    ]
    runner = CliRunner()
    left: dict[str, int] = {}
    for args, status in commands:
        done = runner.invoke(main, ["--database-url", database_url, *args],
                             env={"ROSTRA_SECRET_KEY": SECRET_KEY, "ROSTRA_REDIS_URL": ""})
        assert done.exit_code == status, (args, done.output, done.exception)
        if open_connections.opened:
            left[" ".join(args)] = len(open_connections.opened)
            open_connections.opened.clear()
    assert left == {}, json.dumps(left, indent=1)
