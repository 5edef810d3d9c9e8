"""The progress bar and the summary an import prints (rich)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from rostra.services.import_records import ImportSummary


class _Bar:
    """Items written and their rate; the bar follows the bytes read when the size is known."""

    def __init__(self, progress: Progress, task: TaskID, raw: IO[bytes] | None) -> None:
        self.progress = progress
        self.task = task
        self.raw = raw

    def update(self, summary: ImportSummary) -> None:
        elapsed = self.progress.tasks[self.task].elapsed or 0.0
        rate = summary.items / elapsed if elapsed > 0 else 0.0
        position = None
        if self.raw is not None:
            try:
                position = self.raw.tell()
            except (OSError, ValueError):
                position = None
        self.progress.update(
            self.task,
            completed=position if position is not None else summary.items,
            items=f"{summary.items:,} items",
            rate=f"{rate:,.0f} items/s",
        )


@contextmanager
def import_progress(
    console: Console, label: str, raw: IO[bytes] | None = None, total: int | None = None
) -> Iterator[Callable[[ImportSummary], None]]:
    """A callback for ImportEngine(on_progress=...) drawing a live bar while open."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[items]}"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(label, total=total, items="0 items", rate="")
        bar = _Bar(progress, task, raw)
        yield bar.update
        if total is not None:
            progress.update(task, completed=total)


@contextmanager
def export_progress(console: Console, label: str) -> Iterator[Callable[[int], None]]:
    """A callback for exporting.export(on_record=...): the records written and their
    rate, drawn live while open (an export of a large site takes minutes)."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.fields[records]}"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    with progress:
        task = progress.add_task(label, total=None, records="0 records", rate="")

        def update(count: int) -> None:
            elapsed = progress.tasks[task].elapsed or 0.0
            rate = count / elapsed if elapsed > 0 else 0.0
            progress.update(task, records=f"{count:,} records", rate=f"{rate:,.0f} records/s")

        yield update


def print_summary(console: Console, summary: ImportSummary) -> None:
    """Threads, comments, votes, what was skipped and why, and remarks."""
    table = Table(title=f"Import from {summary.source.value}", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("items read", summary.items),
        ("sites created", summary.sites_created),
        ("threads created", summary.threads_created),
        ("threads matched to existing ones", summary.threads_matched),
        ("aliases created", summary.aliases_created),
        ("editor questions created", summary.questions_created),
        ("comments created", summary.comments_created),
        ("votes created", summary.votes_created),
        ("subscriber addresses created", summary.addresses_created),
        ("subscriptions created", summary.subscriptions_created),
        ("context notes created", summary.notes_created),
        ("reader accounts created", summary.accounts_created),
        ("featured and pinned comments", summary.pins_created),
        ("bans created", summary.bans_created),
        ("readers' flags created", summary.flags_created),
        ("authors' reputations created", summary.authors_created),
        ("already imported before (left alone)", summary.already_imported),
    ]
    for label, count in rows:
        table.add_row(label, f"{count:,}")
    for reason, count in sorted(summary.skipped.items()):
        table.add_row(f"skipped: {reason}", f"{count:,}")
    console.print(table)
    if summary.resumed:
        console.print(f"Resumed interrupted import run {summary.run_id}.")
    for notice in summary.notices:
        console.print(f"[yellow]Note:[/yellow] {notice}")
