"""`rostra report dsa --from --to`: the EU DSA transparency figures as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click


@click.group()
def report_group() -> None:
    """Reports for regulators and readers."""


@report_group.command("dsa")
@click.option("--from", "since", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day of the period (UTC), e.g. 2026-01-01.")
@click.option("--to", "until", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day of the period (UTC), included.")
@click.option("--site", "site_id", default=None, help="One site (default: all sites).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.pass_obj
def dsa_command(state: Any, since: datetime, until: datetime, site_id: str | None, fmt: str,
                output: Path | None) -> None:
    """Notices by legal ground, decisions, median time to act, the automated share,
    appeals and their outcomes, for notices and decisions made in the period."""
    from rostra.commands.opening import services as open_services
    from rostra.core.errors import NotFound
    from rostra.moderation.policy import parse_policy
    from rostra.services.dsa import DsaService
    from rostra.services.dsa_transparency import period, transparency_rows
    from rostra.services.moderation import ModerationService

    if since.date() > until.date():
        raise click.ClickException("--from must not be after --to")
    with open_services(state.settings) as services:
        if site_id is not None:
            try:
                services.sites.get(site_id)
            except NotFound:
                raise click.ClickException(f"no site {site_id!r} (rostra site list)") from None
        dsa = DsaService(ModerationService(services.comments),
                         lambda s: parse_policy(services.sites.settings_of(s).moderation).dsa)
        start, end = period(since.date(), until.date())
        report = dsa.transparency(start, end, site_id)
    if fmt == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["section", "metric", "key", "value"])
        writer.writerows(transparency_rows(report))
        text = buffer.getvalue()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
