"""Schema migrations (Alembic), run from the CLI and at start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

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
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def is_current(db: Database) -> bool:
    return current_revisions(db) == head_revisions(db)
