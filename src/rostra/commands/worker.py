"""`rostra worker`: deliver notifications in a process of its own."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import click


@click.command()
@click.option("--once", is_flag=True,
              help="Deliver what is due now, delete what is past its retention, then exit.")
@click.option("--poll", default=2.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between looks at the outbox when idle (at least 0.1).")
@click.pass_obj
def worker_command(state: Any, once: bool, poll: float) -> None:
    """Deliver notification emails and webhooks (set `worker = false` for `serve` then,
    or keep both: several workers share the outbox safely)."""
    from rostra import logs
    from rostra.api.notify_install import build_runtime
    from rostra.commands.opening import services as open_services
    from rostra.config import ConfigError, check_serving

    settings = state.settings
    try:
        check_serving(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    logs.configure(settings.log_level, settings.log_format)
    with open_services(settings, migrating=True) as services:  # as `serve` does
        rt = build_runtime(services, poll_seconds=poll)

        async def main() -> int:
            if once:
                return await rt.worker.run_once()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await rt.worker.run(stop)
            return 0

        handled = asyncio.run(main())
        # The loop prunes hourly; a worker run from cron prunes on each run.
        pruned = rt.worker.prune() if once else 0
    if once:
        click.echo(f"delivered {handled} batch(es), pruned {pruned} old message(s)")
