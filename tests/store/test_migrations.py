"""Migrations create exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rostra.store import migrate
from rostra.store.db import Database
from rostra.store.tables import metadata
from tests.conftest import POSTGRES_URL, create_postgres_database, require


def _load_all_tables() -> None:
    """Feature modules declare their tables on the shared metadata when imported."""
    import importlib
    import pkgutil

    import rostra.store

    for module in pkgutil.iter_modules(rostra.store.__path__):
        if module.name.endswith("_tables"):
            importlib.import_module(f"rostra.store.{module.name}")


def _assert_schema_matches(db: Database) -> None:
    migrate.upgrade(db)
    assert migrate.is_current(db)
    _load_all_tables()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # SQLite cannot tell a BigInteger from an Integer; ignore pure type noise there.
    meaningful = [d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_type")]
    assert meaningful == [], f"migrations and tables differ: {meaningful}"


def test_it_migrates_sqlite_to_the_declared_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    try:
        _assert_schema_matches(db)
        migrate.upgrade(db)  # a second run changes nothing
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


@pytest.mark.postgres
def test_it_migrates_postgres_to_the_declared_schema() -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    db = Database(url)
    try:
        _assert_schema_matches(db)
    finally:
        db.dispose()
        drop()
