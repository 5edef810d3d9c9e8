"""What a command opens on the database, closed when the command ends, whether it
succeeds or refuses: the engine and its connections, and the change bus's client.

Every command goes through ``database`` or ``services``: a command run in a process
that goes on (a test, a script, an embedding) leaves no connection behind.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from rostra.config import Settings, shown_url
from rostra.services.audit_log import Audited

if TYPE_CHECKING:
    from rostra.services.container import Services
    from rostra.store.change_bus import ChangeBus
    from rostra.store.db import Database


def upgrade(settings: Settings) -> None:
    """Apply pending migrations, saying on stderr when the schema changed."""
    with database(settings, migrating=True):
        pass


@contextmanager
def database(settings: Settings, *, bus: bool = False, say_migrations: bool = True,
             migrating: bool = False) -> Iterator[Database]:
    """The database, its schema current. ``migrating``: pending migrations are applied
    (`rostra db upgrade`, `init`, `serve`, `worker`, `demo`); else an empty database gets
    the schema, and one whose schema is behind is refused, naming `rostra db upgrade`:
    a command run to read or change some data must not migrate a production database
    under the servers of the version before. ``bus``: with the change bus installed, so
    that running servers hear of the command's changes at once (not at their next poll)."""
    from rostra.store import migrate
    from rostra.store.change_bus import bus_for
    from rostra.store.db import Database

    db = Database(settings.database_url)
    installed: ChangeBus | None = None
    try:
        before = _first_look(db, settings.database_url)
        heads = migrate.head_revisions(db)
        if migrate.unknown_revisions(db, before):
            raise click.ClickException(migrate.newer_schema_message(
                shown_url(settings.database_url), before))
        if before and before != heads and not migrating:
            raise click.ClickException(
                f"database: {shown_url(settings.database_url)} has schema {sorted(before)}, "
                f"this version needs {sorted(heads)}: run `rostra db upgrade` (this command "
                "does not migrate)")
        if before != heads:
            migrate.upgrade(db)
        after = migrate.current_revisions(db)
        if say_migrations and before != after:
            click.echo(f"migrated schema: {sorted(before) or 'empty'} -> {sorted(after)}",
                       err=True)
        if bus:
            installed = bus_for(settings.database_url, settings.redis_url, db)
        yield db
    finally:
        if installed is not None:
            installed.close()
        db.dispose()


def _first_look(db: Database, url: str) -> set[str]:
    """The schema's revisions; a database that cannot be opened (a server down, a wrong
    address, name or password, a SQLite path that cannot be a file) said in one line."""
    from sqlalchemy.exc import OperationalError

    from rostra.store import migrate

    try:
        return migrate.current_revisions(db)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0:1] or [type(exc.orig).__name__]
        raise click.ClickException(
            f"database: cannot reach {shown_url(url)}: {reason[0]}") from None


@contextmanager
def services(settings: Settings, *, outbox: bool = False,
             migrating: bool = False) -> Iterator[Services]:
    """Every service on the database (its schema current: ``database``), with the change bus.
    ``outbox``: a change to a comment queues what it does in the server (webhook calls,
    subscriber mail, moderators' alerts), with the outbox hook the server installs
    (``rostra.api.notify_install``); a running server's worker, or `rostra worker`,
    sends them."""
    from rostra.services.container import Services
    from rostra.services.notify_hooks import OutboxHook

    with database(settings, migrating=migrating) as db:
        built = Services.build(settings, db)
        if outbox:
            built.comments.tx_hooks.append(OutboxHook(settings, built.sites))
        try:
            yield built
        finally:
            if built.bus is not None:
                built.bus.close()


def operator() -> Audited:
    """Who the audit log names for a change made from the command line: the command
    line, and the system user who ran it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = f"uid {os.getuid()}"
    return Audited(f"command line ({user})")
