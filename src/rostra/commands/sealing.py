"""`rostra secrets`: the secrets the database keeps, sealed with secret_key (seal,
unseal, status). Prints counts per kind and what cannot be opened, never a secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rostra.core.sealing import Sealer


@click.group("secrets")
def secrets_group() -> None:
    """Secrets kept in the database, sealed with secret_key (docs/security.md)."""


_previous = click.option(
    "--previous-key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file holding the secret_key before a change: values sealed with it are "
         "opened (and, by seal, sealed again with the current one).")


def _run(state: Any, mode_name: str, previous_key_file: Path | None) -> None:
    from rostra.commands.opening import database
    from rostra.services.stored_secrets import Mode, StoredSecrets

    settings = state.settings
    mode = Mode(mode_name)
    if mode is Mode.SEAL and not settings.secret_key:
        raise click.ClickException(
            "secret_key is not configured (rostra.toml, ROSTRA_SECRET_KEY or "
            "ROSTRA_SECRET_KEY_FILE): the server would keep a generated key in the database "
            "itself, where sealing protects nothing. Set secret_key first.")
    previous = None
    if previous_key_file is not None:
        key = previous_key_file.read_text(encoding="utf-8").strip()
        if not key:
            raise click.ClickException(f"{previous_key_file} is empty")
        previous = Sealer(key)
    # With the bus: running servers hear at once of the providers whose secrets were
    # rewritten (they may remember one as not offered), not when that memory runs out.
    with database(settings, bus=True) as db:
        reports = StoredSecrets(db, Sealer(settings.secret_key)).run(mode, previous)
    unopenable = [item for report in reports for item in report.unopenable]
    for report in reports:
        click.echo(report.line())
    for what, why in unopenable:
        click.echo(f"cannot open {what}: {why}", err=True)
    if unopenable:
        raise click.ClickException(
            f"{len(unopenable)} secret(s) cannot be opened with this server's secret_key"
            + ("" if previous else " (give the key they were sealed with: "
               "--previous-key-file)")
            + "; the features that need them stay off until then (docs/security.md)")


@secrets_group.command("seal")
@_previous
@click.pass_obj
def seal_command(state: Any, previous_key_file: Path | None) -> None:
    """Seal the secrets still stored plain, and re-seal those sealed with the previous
    key (--previous-key-file), with the configured secret_key. Running it again changes
    nothing."""
    _run(state, "seal", previous_key_file)


@secrets_group.command("unseal")
@_previous
@click.pass_obj
def unseal_command(state: Any, previous_key_file: Path | None) -> None:
    """Store the sealed secrets plain again: before going back to a version that cannot
    read them, or before emptying secret_key."""
    _run(state, "unseal", previous_key_file)


@secrets_group.command("status")
@_previous
@click.pass_obj
def status_command(state: Any, previous_key_file: Path | None) -> None:
    """Count the stored secrets per kind: plain, sealed, or not to be opened (exit status
    1). Changes nothing."""
    _run(state, "status", previous_key_file)
