"""The `rostra` command line."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import threading
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from rostra import __version__
from rostra.config import (
    DEFAULT_CONFIG_FILE,
    ConfigError,
    Settings,
    check_serving,
    commented_config,
    load_settings,
    serving_problems,
)


@dataclass
class CliState:
    config_file: str | None
    overrides: dict[str, Any]
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_file, **self.overrides)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings


@click.group()
@click.version_option(__version__, prog_name="rostra")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help=f"Configuration file (default: ./{DEFAULT_CONFIG_FILE} or $ROSTRA_CONFIG).")
@click.option("--database-url", help="Overrides database_url.")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, database_url: str | None) -> None:
    """Rostra: self-hosted discussions for news sites and blogs."""
    ctx.obj = CliState(config_file, {"database_url": database_url})


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing configuration file.")
@click.pass_obj
def init(state: CliState, force: bool) -> None:
    """Write a commented rostra.toml and create the database here."""
    path = Path(state.config_file or DEFAULT_CONFIG_FILE)
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    path.write_text(commented_config(secret_key=secrets.token_urlsafe(32)), encoding="utf-8")
    path.chmod(0o600)
    click.echo(f"wrote {path}")
    state.config_file = str(path)
    _upgrade(state.settings)
    click.echo(f"database ready: {state.settings.database_url}")
    click.echo("next: rostra site add mysite --name 'My site' --origin https://example.com")


def _upgrade(settings: Settings) -> None:
    from rostra.store import migrate
    from rostra.store.db import Database

    db = Database(settings.database_url)
    try:
        before = migrate.current_revisions(db)
        migrate.upgrade(db)
        after = migrate.current_revisions(db)
    finally:
        db.dispose()
    if before != after:
        click.echo(f"migrated schema: {sorted(before) or 'empty'} -> {sorted(after)}", err=True)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(state: CliState) -> None:
    """Apply pending migrations."""
    _upgrade(state.settings)
    click.echo("schema is up to date")


def _services(settings: Settings) -> Any:
    from rostra.services.container import Services

    _upgrade(settings)
    return Services.build(settings)


@main.group()
def site() -> None:
    """Sites: the pages that may embed discussions."""


@site.command("add")
@click.argument("site_id")
@click.option("--name", required=True, help="Display name.")
@click.option("--origin", "origins", multiple=True,
              help="Allowed origin, e.g. https://news.example.com (repeatable).")
@click.pass_obj
def site_add(state: CliState, site_id: str, name: str, origins: tuple[str, ...]) -> None:
    """Create a site."""
    from rostra.core.errors import RostraError

    services = _services(state.settings)
    try:
        created = services.sites.create(site_id, name, list(origins))
    except RostraError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"created site {created.id} ({created.name}): {', '.join(created.origins) or '-'}")


@site.command("list")
@click.pass_obj
def site_list(state: CliState) -> None:
    """List sites."""
    services = _services(state.settings)
    for item in services.sites.list():
        click.echo(f"{item.id}\t{item.name}\t{' '.join(item.origins)}")


@site.group("origin")
def site_origin() -> None:
    """The origins (scheme://host[:port]) whose pages may embed a site's discussions."""


def _site_call(state: CliState, call: str, *args: str) -> Any:
    from rostra.core.errors import RostraError

    services = _services(state.settings)
    try:
        return getattr(services.sites, call)(*args)
    except RostraError as exc:
        raise click.ClickException(exc.detail) from None
    finally:
        services.db.dispose()


@site_origin.command("list")
@click.argument("site_id")
@click.pass_obj
def site_origin_list(state: CliState, site_id: str) -> None:
    """Print the origins SITE_ID allows, one a line."""
    for origin in _site_call(state, "get", site_id).origins:
        click.echo(origin)


@site_origin.command("add")
@click.argument("site_id")
@click.argument("origin")
@click.pass_obj
def site_origin_add(state: CliState, site_id: str, origin: str) -> None:
    """Allow ORIGIN (e.g. https://news.example.com) to embed SITE_ID's discussions; refused
    when another site allows it already."""
    updated = _site_call(state, "add_origin", site_id, origin)
    click.echo(f"{site_id} allows: {', '.join(updated.origins)}")


@site_origin.command("remove")
@click.argument("site_id")
@click.argument("origin")
@click.pass_obj
def site_origin_remove(state: CliState, site_id: str, origin: str) -> None:
    """Stop allowing ORIGIN on SITE_ID (its pages can no longer post or read by origin)."""
    updated = _site_call(state, "remove_origin", site_id, origin)
    click.echo(f"{site_id} allows: {', '.join(updated.origins) or 'no origin'}")


@site.command("sso")
@click.argument("site_id")
@click.option("--rotate", is_flag=True, help="Replace the secret (old payloads stop working).")
@click.option("--off", is_flag=True, help="Turn single sign-on off for the site.")
@click.pass_obj
def site_sso(state: CliState, site_id: str, rotate: bool, off: bool) -> None:
    """Single sign-on: print the secret the site's server signs readers with."""
    from rostra.core.errors import RostraError

    services = _services(state.settings)
    try:
        services.sites.get(site_id)
    except RostraError as exc:
        raise click.ClickException(exc.detail) from None
    if off:
        services.accounts.disable(site_id)
        click.echo(f"single sign-on is off for {site_id}")
        return
    secret = services.accounts.make_secret(site_id, rotate=rotate)
    click.echo(secret)
    click.echo(f"(the sign-on secret of {site_id}: keep it on the site's server, never in a "
               "page; see docs/sso.md)", err=True)


@main.group()
def privacy() -> None:
    """A person's data on request: export it, or erase it."""


@privacy.command("export")
@click.argument("email")
@click.option("--output", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout).")
@click.pass_obj
def privacy_export(state: CliState, email: str, output: str | None) -> None:
    """Everything stored under EMAIL (comments and subscriptions on every site), as JSON."""
    import orjson

    from rostra.services.personal_data import PersonalData

    services = _services(state.settings)
    data = orjson.dumps(PersonalData(services.comments).export(email), option=orjson.OPT_INDENT_2)
    if output:
        Path(output).write_bytes(data + b"\n")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(data.decode())


@privacy.command("forget")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def privacy_forget(state: CliState, email: str, yes: bool) -> None:
    """Erase EMAIL's comments (replies to them stay under a tombstone), details,
    subscriptions and sign-on accounts."""
    from rostra.services.personal_data import PersonalData

    if not yes:
        click.confirm(f"Erase everything stored under {email}?", abort=True)
    services = _services(state.settings)
    done = PersonalData(services.comments).forget(email, actor="cli")
    click.echo(f"erased {done['comments']} comment(s), {done['subscriptions']} "
               f"subscription(s) and {done['accounts']} sign-on account(s)")


def _run_server(settings: Settings, host: str, port: int, workers: int) -> None:
    from rostra import logs

    logs.configure(settings.log_level, settings.log_format)
    scratch = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker keeps its own metrics; the shared directory merges them at /metrics.
        # Ours goes when the server stops (one the operator names is theirs to keep).
        scratch = tempfile.TemporaryDirectory(prefix="rostra-prom-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = scratch.name
    try:
        _serve(settings, host, port, workers)
    finally:
        if scratch is not None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            scratch.cleanup()


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    _upgrade(settings)
    os.environ["ROSTRA_DATABASE_URL"] = settings.database_url
    if settings.demo_pages:
        os.environ["ROSTRA_DEMO_PAGES"] = "true"
    uvicorn.run(
        "rostra.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


def doctor_findings(settings: Settings, config_file: Path | None) -> tuple[list[str], list[str]]:
    """(errors, warnings) about a configuration: errors stop `rostra serve`, warnings are
    what a careful operator fixes before going live."""
    errors = serving_problems(settings)
    warnings = []
    if not settings.secret_key:
        warnings.append("secret_key: empty, so a generated key is kept in the database; set "
                        "it in rostra.toml (or ROSTRA_SECRET_KEY_FILE) so that a copy of the "
                        "database alone cannot forge tokens or reverse IP hashes")
    public = settings.public_url
    if public.startswith("http://") and not public.startswith(
            ("http://127.", "http://localhost", "http://[::1]")):
        warnings.append("public_url: not https; serve Rostra behind TLS (see docs/security.md)")
    if not settings.metrics_token and settings.host not in ("127.0.0.1", "localhost", "::1"):
        warnings.append("metrics_token: empty while listening on " + settings.host
                        + "; /metrics answers only loopback addresses until it is set")
    paths = [config_file] if config_file is not None and config_file.exists() else []
    if settings.database_url.startswith("sqlite:///"):
        db_path = Path(settings.database_url.split("///", 1)[1])
        paths += [p for p in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"))
                  if p.exists()]
    for path in paths:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            warnings.append(f"{path}: mode {mode:o}; it holds secrets or personal data, make it "
                            f"readable by Rostra's user only (chmod 600 {path})")
    return errors, warnings


@main.command()
@click.pass_obj
def doctor(state: CliState) -> None:
    """Check the configuration for what is unsafe or missing; exit status 1 on errors."""
    settings = state.settings
    config_file = Path(state.config_file or os.environ.get("ROSTRA_CONFIG")
                       or DEFAULT_CONFIG_FILE)
    errors, warnings = doctor_findings(settings, config_file)
    for line in errors:
        click.echo(f"error: {line}")
    for line in warnings:
        click.echo(f"warning: {line}")
    if errors:
        sys.exit(1)
    click.echo("no errors" + (f", {len(warnings)} warning(s)" if warnings else ""))


@main.command()
@click.option("--host", help="Address to listen on (default: setting host).")
@click.option("--port", type=int, help="Port (default: setting port).")
@click.option("--workers", type=int, help="Worker processes (default: setting workers).")
@click.pass_obj
def serve(state: CliState, host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the API, the widget and the admin UI."""
    settings = state.settings
    try:
        check_serving(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    _run_server(settings, host or settings.host, port or settings.port, workers or settings.workers)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
@click.option("--database", default="rostra-demo.sqlite3", show_default=True,
              help="SQLite file for the demo (created if missing).")
@click.pass_obj
def demo(state: CliState, host: str, port: int, no_browser: bool, database: str) -> None:
    """Seed a sample site and article thread into SQLite and serve it."""
    from rostra.demo import DEMO_SITE, DEMO_THREAD, ensure_demo

    url = f"sqlite:///{Path(database).resolve()}"
    state.overrides["database_url"] = url
    state.overrides["demo_pages"] = True
    state._settings = None
    services = _services(state.settings)
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown_host}:{port}"
    origins = [base, f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    seeded = ensure_demo(services, origins)
    login = _demo_editor(services, Path(database).resolve())
    services.db.dispose()
    click.echo(("Seeded" if seeded else "Using") + f" the demo database {database}")
    click.echo(f"  Article with comments:  {base}/demo/")
    click.echo(f"  Index page with counts: {base}/demo/index.html")
    click.echo(f"  Thread as JSON:         {base}/api/comments?site={DEMO_SITE}&thread={DEMO_THREAD}")
    click.echo(f"  API docs:               {base}/api/docs")
    click.echo(f"  Admin UI:               {base}/admin/" + (f"  ({login})" if login else ""))
    click.echo("Press Ctrl+C to stop.")
    if not no_browser:
        threading.Timer(1.5, webbrowser.open, args=(f"{base}/demo/",)).start()
    _run_server(state.settings, host, port, 1)


# (module, attribute, group to add it to, command name) for feature packages' commands.
FEATURE_COMMANDS = (
    ("rostra.importers.cli", "import_group", main, "import"),
    ("rostra.importers.cli", "export_command", main, "export"),
    ("rostra.importers.cli", "site_move_command", site, "move"),
    ("rostra.admin.cli", "user_group", main, "user"),
    ("rostra.notify.cli", "worker_command", main, "worker"),
)


def _demo_editor(services: Any, database: Path) -> str | None:
    """A staff account for the demo's admin UI; its password is kept beside the database."""
    try:
        from rostra.services.staff import StaffService
    except ModuleNotFoundError:
        return None
    secret_file = database.with_name(database.stem + "-admin.txt")
    if secret_file.exists():
        return secret_file.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(12)
    staff = StaffService(services.db, services.comments.ip_salt)
    staff.create_user("editor", password, is_admin=True)
    login = f"sign in as editor / {password}"
    secret_file.write_text(login + "\n", encoding="utf-8")
    secret_file.chmod(0o600)
    return login


def _register_optional_commands() -> None:
    import importlib

    for module_name, attribute, group, name in FEATURE_COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # the feature is not part of this build
            raise
        command = getattr(module, attribute, None)
        if command is not None:
            group.add_command(command, name)


_register_optional_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
