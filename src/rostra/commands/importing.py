"""`rostra import …`, `rostra export` and `rostra site move`: the import/export commands.

The lead's CLI adds ``import_group`` and ``export_command`` to the top-level group and
``site_move_command`` under ``rostra site``. Each reads ``ctx.obj.settings``.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import IO, Any, Protocol, cast

import click
from rich.console import Console

from rostra.commands.opening import database
from rostra.config import Settings
from rostra.core.errors import RostraError
from rostra.importers.disqus import read_disqus
from rostra.importers.isso import read_isso
from rostra.importers.progress import export_progress, import_progress, print_summary
from rostra.importers.remark42 import read_remark42
from rostra.importers.rostra_jsonl import read_rostra
from rostra.importers.wordpress import read_wordpress
from rostra.moderation.ip_hashing import ip_hasher_for
from rostra.services import exporting
from rostra.services.exporting import RostraRecord
from rostra.services.import_records import (
    ImportConflict,
    ImportFormatError,
    ImportItem,
    ImportSource,
)
from rostra.services.importing import BATCH_SIZE, ImportEngine, file_fingerprint
from rostra.services.site_move import move_site
from rostra.store.db import Database

GZIP_MAGIC = b"\x1f\x8b"


class HasSettings(Protocol):
    settings: Settings


def _console() -> Console:
    return Console(stderr=True)


def _database(ctx: click.Context, *, bus: bool = False) -> AbstractContextManager[Database]:
    """The database, its schema upgraded (silently), closed when the block ends."""
    obj: HasSettings = ctx.obj
    return database(obj.settings, bus=bus, say_migrations=False)


def _open_binary(path: Path, stack: ExitStack) -> tuple[IO[bytes], IO[bytes]]:
    """(stream to parse, raw file whose position shows progress); gunzips by magic."""
    raw = stack.enter_context(open(path, "rb"))
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        # GzipFile reads like any binary file; typeshed does not call it an IO[bytes].
        return stack.enter_context(cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb"))), raw
    raw.seek(0)
    return raw, raw


def _run(
    ctx: click.Context,
    source: ImportSource,
    path: Path,
    site: str | None,
    origins: tuple[str, ...],
    read: Callable[[ExitStack], tuple[Iterable[ImportItem | RostraRecord], IO[bytes] | None]],
    batch_size: int,
) -> None:
    console = _console()
    # Running servers hear of the threads it changed (or, if it fails, stopped showing)
    # at once over the change bus, not at their next poll.
    with _database(ctx, bus=True) as db:
        try:
            engine = ImportEngine(
                db, source=source, site_id=site, fingerprint=file_fingerprint(path),
                origins=origins, batch_size=batch_size,
                ips=ip_hasher_for(db, ctx.obj.settings.secret_key),
            )
            with ExitStack() as stack:
                items, raw = read(stack)
                total = path.stat().st_size if raw is not None else None
                with import_progress(console, f"{source.value} {path.name}", raw, total) as on:
                    engine.on_progress = on
                    summary = engine.run(items)
        except (ImportFormatError, ImportConflict) as exc:
            raise click.ClickException(
                f"import stopped: {exc}\nNothing was imported: the database is as it was."
            ) from None
        except RostraError as exc:
            raise click.ClickException(exc.detail) from None
        except KeyboardInterrupt:
            console.print(
                "[yellow]Interrupted.[/yellow] What was written is kept; run the same command "
                "again to resume."
            )
            sys.exit(130)
    print_summary(console, summary)


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--batch-size", type=click.IntRange(1, 100_000), default=BATCH_SIZE, show_default=True,
        help="Items written per transaction.",
    )(func)
    func = click.option(
        "--origin", "origins", multiple=True,
        help="An origin (https://news.example) the site allows; repeat for several.",
    )(func)
    return func


@click.group("import")
def import_group() -> None:
    """Import comments from WordPress, Disqus, Isso, Remark42 or a Rostra export.

    Importing the same file again creates nothing twice; an interrupted import resumes
    when run again; bad input stops the import and leaves the database as it was.
    """


@import_group.command("wordpress")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", required=True, help="Site to import into (created if missing).")
@click.option("--keep-pingbacks", is_flag=True, help="Import pingbacks and trackbacks too.")
@click.option(
    "--wpdiscuz-sql", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="SQL dump of wpDiscuz's tables (wc_users_voted, wc_comments_subscription, "
    "wc_feedback_forms): per-voter votes and subscriptions.",
)
@_common
@click.pass_context
def import_wordpress(
    ctx: click.Context, file: Path, site: str, keep_pingbacks: bool,
    wpdiscuz_sql: Path | None, origins: tuple[str, ...], batch_size: int,
) -> None:
    """Import a WordPress export (WXR), with wpDiscuz's votes and inline feedback."""

    def read(stack: ExitStack) -> tuple[Iterator[ImportItem], IO[bytes]]:
        stream, raw = _open_binary(file, stack)
        dump = None
        if wpdiscuz_sql is not None:
            dump = stack.enter_context(open(wpdiscuz_sql, encoding="utf-8", errors="replace"))
        return read_wordpress(stream, keep_pingbacks=keep_pingbacks, wpdiscuz_sql=dump), raw

    _run(ctx, ImportSource.WORDPRESS, file, site, origins, read, batch_size)


@import_group.command("disqus")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", required=True, help="Site to import into (created if missing).")
@_common
@click.pass_context
def import_disqus(
    ctx: click.Context, file: Path, site: str, origins: tuple[str, ...], batch_size: int
) -> None:
    """Import a Disqus XML export."""

    def read(stack: ExitStack) -> tuple[Iterator[ImportItem], IO[bytes]]:
        stream, raw = _open_binary(file, stack)
        return read_disqus(stream), raw

    _run(ctx, ImportSource.DISQUS, file, site, origins, read, batch_size)


@import_group.command("isso")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", required=True, help="Site to import into (created if missing).")
@_common
@click.pass_context
def import_isso(
    ctx: click.Context, file: Path, site: str, origins: tuple[str, ...], batch_size: int
) -> None:
    """Import an Isso SQLite database (opened read-only)."""

    def read(stack: ExitStack) -> tuple[Iterator[ImportItem], None]:
        return read_isso(file), None

    _run(ctx, ImportSource.ISSO, file, site, origins, read, batch_size)


@import_group.command("remark42")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", required=True, help="Site to import into (created if missing).")
@_common
@click.pass_context
def import_remark42(
    ctx: click.Context, file: Path, site: str, origins: tuple[str, ...], batch_size: int
) -> None:
    """Import a Remark42 backup (gzipped or not)."""

    def read(stack: ExitStack) -> tuple[Iterator[ImportItem], IO[bytes]]:
        stream, raw = _open_binary(file, stack)
        return read_remark42(stream), raw

    _run(ctx, ImportSource.REMARK42, file, site, origins, read, batch_size)


@import_group.command("rostra")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", default=None, help="Import every site of the file as this site.")
@_common
@click.pass_context
def import_rostra(
    ctx: click.Context, file: Path, site: str | None, origins: tuple[str, ...], batch_size: int
) -> None:
    """Import a Rostra export (JSON Lines, gzipped or not), keeping every id."""

    def read(stack: ExitStack) -> tuple[Iterator[RostraRecord], IO[bytes]]:
        stream, raw = _open_binary(file, stack)
        return read_rostra(stream), raw

    _run(ctx, ImportSource.ROSTRA, file, site, origins, read, batch_size)


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--site", default=None, help="Export only this site (default: all).")
@click.pass_context
def export_command(ctx: click.Context, file: Path, site: str | None) -> None:
    """Export sites, threads, comments and votes to JSON Lines (.jsonl or .jsonl.gz)."""
    console = _console()
    with (_database(ctx) as db, exporting.open_output(file) as out,
          export_progress(console, f"export {file.name}") as on_record):
        count = exporting.export(db, out, site, on_record=on_record)
    console.print(f"Exported {count:,} records to {file}.")


@click.command("move")
@click.argument("old_origin")
@click.argument("new_origin")
@click.option("--site", default=None, help="Only this site (default: every site allowing OLD).")
@click.option("--keep-old-origin", is_flag=True, help="Keep allowing OLD_ORIGIN as well.")
@click.pass_context
def site_move_command(
    ctx: click.Context, old_origin: str, new_origin: str, site: str | None,
    keep_old_origin: bool,
) -> None:
    """Move a site to a new domain; its threads stay, and old URLs still lead to them."""
    console = _console()
    # Running servers hear of the move through the bus at once (PostgreSQL's NOTIFY in
    # the move's transaction, or Redis after it), not at their next look at the sites.
    with _database(ctx, bus=True) as db:
        try:
            summary = move_site(
                db, old_origin, new_origin, site_id=site, keep_old_origin=keep_old_origin
            )
        except RostraError as exc:
            raise click.ClickException(exc.detail) from None
    console.print(
        f"Moved {', '.join(summary.sites)} from {summary.old_origin} to {summary.new_origin}: "
        f"{summary.threads_moved:,} threads."
    )
