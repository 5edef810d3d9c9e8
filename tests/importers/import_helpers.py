"""Reading back what an import wrote."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from rostra.commands.importing import export_command, import_group, site_move_command
from rostra.config import Settings
from rostra.store.db import Database
from rostra.store.import_tables import questions
from rostra.store.notify_tables import (
    notify_addresses,
    notify_subscription_comments,
    notify_subscriptions,
)
from rostra.store.tables import comments, thread_aliases, threads, votes


@dataclass
class Context:
    """What the lead's top-level command puts in ``ctx.obj``."""

    settings: Settings


@click.group()
def rostra_cli() -> None:
    """Stand-in for the top-level `rostra` group, with the commands wired as in the real one."""


@click.group("site")
def site_group() -> None:
    """Stand-in for `rostra site`."""


site_group.add_command(site_move_command)
rostra_cli.add_command(import_group)
rostra_cli.add_command(export_command)
rostra_cli.add_command(site_group)


@dataclass
class Rostra:
    """A database and the commands run against it."""

    url: str
    db: Database

    def run(self, *args: str | Path) -> Result:
        runner = CliRunner()
        return runner.invoke(
            rostra_cli, [str(a) for a in args],
            obj=Context(Settings(database_url=self.url)), catch_exceptions=False,
        )

    def ok(self, *args: str | Path) -> Result:
        result = self.run(*args)
        assert result.exit_code == 0, result.output
        return result


def thread_by_key(db: Database, site: str, key: str) -> Any:
    with db.read() as conn:
        return conn.execute(
            select(threads).where(threads.c.site_id == site, threads.c.key == key)
        ).one()


def comments_of(db: Database, thread_id: int) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(
            select(comments).where(comments.c.thread_id == thread_id).order_by(comments.c.id)
        ))


def by_text(rows: list[Any], fragment: str) -> Any:
    found = [r for r in rows if fragment in r.text]
    assert len(found) == 1, f"{fragment!r} in {[r.text for r in rows]}"
    return found[0]


def aliases_of(db: Database, thread_id: int) -> set[str]:
    with db.read() as conn:
        return set(conn.scalars(
            select(thread_aliases.c.key).where(thread_aliases.c.thread_id == thread_id)
        ))


def questions_of(db: Database, thread_id: int) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(
            select(questions).where(questions.c.thread_id == thread_id)
            .order_by(questions.c.position)
        ))


def votes_of(db: Database, comment_id: int) -> dict[str, int]:
    with db.read() as conn:
        return {r.voter: r.value for r in conn.execute(
            select(votes).where(votes.c.comment_id == comment_id)
        )}


def counts(db: Database) -> dict[str, int]:
    """Rows in every table an import writes."""
    from rostra.store.account_tables import reader_accounts
    from rostra.store.import_tables import import_items, import_runs
    from rostra.store.notes_tables import comment_notes, note_ratings
    from rostra.store.tables import sites

    out = {}
    with db.read() as conn:
        for table in (sites, threads, thread_aliases, comments, votes, questions,
                      notify_addresses, notify_subscriptions, notify_subscription_comments,
                      comment_notes, note_ratings, reader_accounts, import_items, import_runs):
            out[table.name] = int(conn.scalar(select(func.count()).select_from(table)) or 0)
    return out


def subscriptions_of(db: Database, site: str) -> set[tuple[str, str, str, bool, tuple[int, ...]]]:
    """(email, thread key, kind, confirmed, followed comment ids) of a site's subscriptions."""
    with db.read() as conn:
        rows = conn.execute(
            select(notify_subscriptions.c.id, notify_addresses.c.email,
                   notify_subscriptions.c.thread_key, notify_subscriptions.c.kind,
                   notify_subscriptions.c.confirmed_at)
            .join(notify_addresses, notify_addresses.c.id == notify_subscriptions.c.address_id)
            .where(notify_subscriptions.c.site_id == site)
        ).all()
        followed: dict[int, list[int]] = {}
        for link in conn.execute(select(notify_subscription_comments)):
            followed.setdefault(link.subscription_id, []).append(link.comment_id)
    return {(r.email, r.thread_key, r.kind, r.confirmed_at is not None,
             tuple(sorted(followed.get(r.id, ())))) for r in rows}


def last_summary(db: Database) -> dict[str, Any]:
    """The summary of the latest import run (skipped reasons, notices, counts)."""
    from rostra.store.import_tables import import_runs

    with db.read() as conn:
        summary = conn.scalar(select(import_runs.c.summary).order_by(import_runs.c.id.desc()))
    assert summary is not None
    return dict(summary)


def refused_restore(target: Rostra, path: Path, lines: list[dict[str, Any]],
                    *args: str) -> str:
    """Write ``lines`` as a Rostra file at ``path`` (its end line counting them), restore
    it into ``target`` and check it is refused, without a traceback, writing nothing;
    returns what the command said, on one line."""
    lines[-1]["records"] = len(lines) - 2
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    before = counts(target.db)
    result = target.run("import", "rostra", path, *args)
    said = " ".join(result.output.split())
    assert result.exit_code == 1, said
    assert "Traceback" not in said and "IntegrityError" not in said
    assert "Nothing was imported: the database is as it was." in said
    assert counts(target.db) == before
    return said
