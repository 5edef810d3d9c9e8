"""Fixtures for the importers: a fresh migrated database (SQLite, or PostgreSQL when
ROSTRA_TEST_POSTGRES_URL is set) and a way to run the import/export commands."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from import_helpers import Rostra

from rostra.store.db import Database
from rostra.store.migrate import upgrade

POSTGRES_URL = os.environ.get("ROSTRA_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_database() -> tuple[str, object]:
    import psycopg

    name = "rostra_import_" + secrets.token_hex(6)
    admin = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # our own random name, no user input
    prefix = admin.rpartition("/")[0]

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{prefix}/{name}", drop


def _sqlite(tmp_path: Path, name: str) -> Iterator[Rostra]:
    url = f"sqlite:///{tmp_path / name}"
    db = Database(url)
    upgrade(db)
    yield Rostra(url, db)
    db.dispose()


@pytest.fixture
def rostra(tmp_path: Path) -> Iterator[Rostra]:
    """A fresh SQLite database with the schema."""
    yield from _sqlite(tmp_path, "rostra.sqlite3")


@pytest.fixture
def second_rostra(tmp_path: Path) -> Iterator[Rostra]:
    """Another fresh SQLite database (to restore into)."""
    yield from _sqlite(tmp_path, "second.sqlite3")


@pytest.fixture
def pg_rostra() -> Iterator[Rostra]:
    """A fresh PostgreSQL database with the schema."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true and ROSTRA_TEST_POSTGRES_URL is not set")
        pytest.skip("ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = _postgres_database()
    db = Database(url)
    upgrade(db)
    yield Rostra(url, db)
    db.dispose()
    drop()  # type: ignore[operator]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Rostra, Rostra]]:
    """Two fresh databases (source and restore target) on SQLite or on PostgreSQL."""
    if request.param == "sqlite":
        first = _sqlite(tmp_path, "a.sqlite3")
        second = _sqlite(tmp_path, "b.sqlite3")
        yield next(first), next(second)
        for gen in (first, second):
            next(gen, None)
        return
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI=true and ROSTRA_TEST_POSTGRES_URL is not set")
        pytest.skip("ROSTRA_TEST_POSTGRES_URL is not set")
    made = [_postgres_database(), _postgres_database()]
    pair = []
    for url, _drop in made:
        db = Database(url)
        upgrade(db)
        pair.append(Rostra(url, db))
    yield pair[0], pair[1]
    for (_url, drop), r in zip(made, pair, strict=True):
        r.db.dispose()
        drop()  # type: ignore[operator]
