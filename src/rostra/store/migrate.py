"""Schema migrations (Alembic), run from the CLI and at start-up."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from rostra.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url)
    return cfg


def head_revisions(db: Database) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(db)).get_heads())


def unknown_revisions(db: Database, revisions: set[str]) -> set[str]:
    """Those of ``revisions`` this version's migrations do not know: a newer version of
    Rostra upgraded the database."""
    script = ScriptDirectory.from_config(alembic_config(db))
    known = {rev.revision for rev in script.walk_revisions()}
    return revisions - known


def newer_schema_message(url: str, revisions: set[str]) -> str:
    return (f"database: {url} has schema {sorted(revisions)}, which this version of "
            "Rostra does not know: a newer version upgraded it. Run that version (this "
            "one cannot read the database)")


def current_revisions(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (all heads: features add sibling branches);
    a no-op when it is already there."""
    cfg = alembic_config(db)
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(conn, on=False)
        try:
            with conn.begin():
                broken_before = _broken_references(conn) if sqlite else Counter()
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                if sqlite:
                    _check_foreign_keys(conn, broken_before)
        finally:
            if sqlite:
                _sqlite_foreign_keys(conn, on=True)


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    """SQLite changes most of a table by rebuilding it (a new table, the rows copied,
    the old one dropped): with foreign keys enforced, dropping the old table deleted
    every row naming it ON DELETE CASCADE (readers' sessions and passkeys in 0105,
    staff roles, sessions and passkeys in 0107) and emptied ON DELETE SET NULL ones.
    Enforcement can only be switched outside a transaction, so on the DB-API
    connection itself, before the migrations' transaction begins and after it ends
    (https://www.sqlite.org/lang_altertable.html#otheralter)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _broken_references(conn: Connection) -> Counter[tuple[str, str]]:
    """How many rows name a row that is not there, by table and the table they name
    (PRAGMA foreign_key_check; not by rowid, which a table's rebuild may change)."""
    return Counter((str(row[0]), str(row[2]))
                   for row in conn.exec_driver_sql("PRAGMA foreign_key_check"))


def _check_foreign_keys(conn: Connection, before: Counter[tuple[str, str]]) -> None:
    """Refuse (and roll back) migrations that left a row naming one that is not there;
    such rows a database had before (written while enforcement was off, by a tool or
    an old version) are not the migrations' doing and do not stop an upgrade."""
    broken = _broken_references(conn) - before
    if broken:
        tables = sorted({table for table, _named in broken})
        raise RuntimeError(f"database: the migrations left {sum(broken.values())} row(s) "
                           f"naming rows that are not there, in {', '.join(tables)}; "
                           "nothing was changed")


def is_current(db: Database) -> bool:
    return current_revisions(db) == head_revisions(db)
