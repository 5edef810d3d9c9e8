"""Fixtures of the store's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rostra.store import migrate
from rostra.store.db import Database
from tests.conftest import POSTGRES_URL, create_postgres_database, require


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def plan_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated database of each kind, for tests of the plans queries get."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'plan.sqlite3'}")
        drop = None
    else:
        require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
        url, drop = create_postgres_database(POSTGRES_URL)
        database = Database(url)
    try:
        migrate.upgrade(database)
        yield database
    finally:
        database.dispose()
        if drop is not None:
            drop()
