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
from rostra.commands.opening import services as open_services
from rostra.commands.opening import upgrade
from rostra.config import (
    DEFAULT_CONFIG_FILE,
    ConfigError,
    Settings,
    check_serving,
    commented_config,
    config_path,
    load_settings,
    shown_url,
    written_for,
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
                settings = load_settings(self.config_file, **self.overrides)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
            problem = self.unconfigured(settings)
            if problem:
                raise click.ClickException(problem)
            self._settings = settings
        return self._settings

    def unconfigured(self, settings: Settings) -> str | None:
        """Why a command must not run here: no configuration names a database, and the
        default one is not here either (it would be created empty, silently)."""
        if (config_path(self.config_file).exists() or self.overrides.get("database_url")
                or os.environ.get("ROSTRA_DATABASE_URL")):
            return None
        if not settings.database_url.startswith("sqlite:///"):
            return None
        if Path(settings.database_url.split("///", 1)[1]).exists():
            return None  # a database made here before, without a configuration file
        return (f"no {DEFAULT_CONFIG_FILE} in {Path.cwd()} (and no --config, ROSTRA_CONFIG, "
                "--database-url or ROSTRA_DATABASE_URL): run `rostra init` here to set "
                f"Rostra up, or run this command in the folder that holds {DEFAULT_CONFIG_FILE}")


class FeatureCommands(click.Group):
    """A group that loads its feature packages' commands (``features``: name -> module
    and attribute) only when one is named or listed: importing them all cost every
    command, ``rostra site list`` too, about a third of a second."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.features: dict[str, tuple[str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.features})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.features:
            return command
        import importlib

        module_name, attribute = self.features[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                return None  # the feature is not part of this build
            raise
        command = getattr(module, attribute, None)
        if command is not None:
            self.add_command(command, cmd_name)
        return command


class RostraGroup(FeatureCommands):
    """The top-level group: says in one line what a missing database driver needs, and
    which file could not be opened."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as exc:
            # A file the operator named (an output in a folder that does not exist, one
            # they may not write): said with its name, not as a traceback.
            if exc.filename is None or exc.strerror is None:
                raise
            raise click.ClickException(f"{exc.filename}: {exc.strerror}") from None
        except RuntimeError as exc:
            from rostra.store.db import DriverMissing

            if isinstance(exc, DriverMissing):
                raise click.ClickException(str(exc)) from None
            raise


@click.group(cls=RostraGroup)
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
    """Write a commented rostra.toml (or the file --config or $ROSTRA_CONFIG names) and
    create the database."""
    path = config_path(state.config_file)
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    values: dict[str, Any] = {"secret_key": secrets.token_urlsafe(32)}
    if state.overrides.get("database_url") or os.environ.get("ROSTRA_DATABASE_URL"):
        # The database named for this run is the one later runs must find in the file,
        # which takes a relative path from its own folder, not from this one. (The file
        # is not read: it is about to be written, or overwritten.)
        try:
            named = load_settings(path, read_file=False, **state.overrides).database_url
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        values["database_url"] = written_for(path, named)
        from rostra.store.db import Database

        # No driver, or no folder for the SQLite file: say so, write nothing.
        Database(values["database_url"]).dispose()
    path.write_text(commented_config(**values), encoding="utf-8")
    path.chmod(0o600)
    click.echo(f"wrote {path}")
    state.config_file = str(path)
    upgrade(state.settings)
    click.echo(f"database ready: {shown_url(state.settings.database_url)}")
    click.echo("next: rostra site add mysite --name 'My site' --origin https://example.com")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(state: CliState) -> None:
    """Apply pending migrations."""
    upgrade(state.settings)
    click.echo("schema is up to date")


@main.group()
def privacy() -> None:
    """A person's data on request: export it, or erase it."""


def _one_person(email: str | None, site: str | None, subject: str | None) -> None:
    """EMAIL, or --site with --subject: one of them."""
    if (email is None) == (subject is None) or (subject is None) != (site is None):
        raise click.UsageError("give EMAIL, or --site SITE with --subject SUBJECT")


def _account_of(personal: Any, site: str, subject: str) -> int:
    """The id of the account --subject names on --site, or the command's error."""
    from rostra.core.errors import RostraError

    try:
        found: int = personal.account_of(site, subject)
    except RostraError as exc:
        raise click.ClickException(exc.detail) from None
    return found


_SUBJECT_HELP = ("Instead of EMAIL: the account's sign-in id on --site (email:<address>, "
                 "<provider>:<sub>, or the site's single sign-on id).")


@privacy.command("export")
@click.argument("email", required=False)
@click.option("--site", help="The site of --subject's account.")
@click.option("--subject", help=_SUBJECT_HELP)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout).")
@click.pass_obj
def privacy_export(state: CliState, email: str | None, site: str | None,
                   subject: str | None, output: str | None) -> None:
    """Everything stored under EMAIL (comments, subscriptions, accounts with their
    sessions, sign-in links, DSA notices filed, on every site), or under one reader
    account (--site and --subject), as JSON."""
    import orjson

    from rostra.services.personal_data import PersonalData

    _one_person(email, site, subject)
    with open_services(state.settings) as services:
        personal = PersonalData(services.comments)
        if subject is not None and site is not None:
            found = personal.export_account(_account_of(personal, site, subject))
        else:
            assert email is not None
            found = personal.export(email)
        data = orjson.dumps(found, option=orjson.OPT_INDENT_2)
    if output:
        from rostra.services.exporting import owner_only

        with open(output, "wb", opener=owner_only) as written:
            written.write(data + b"\n")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(data.decode())


@privacy.command("forget")
@click.argument("email", required=False)
@click.option("--site", help="The site of --subject's account.")
@click.option("--subject", help=_SUBJECT_HELP)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def privacy_forget(state: CliState, email: str | None, site: str | None,
                   subject: str | None, yes: bool) -> None:
    """Erase EMAIL's comments (replies to them stay under a tombstone), details,
    subscriptions, sign-on accounts, their sessions and email sign-in links; DSA notices
    they filed stay without their name, address and reader key. Sites' webhooks are
    sent comment.deleted for each comment, as when the server deletes one. With --site
    and --subject instead of EMAIL: one reader account (one with no address too), its
    comments, sessions, passkeys and what it subscribed its own address to; what was
    stored under its address without the account stays (erase EMAIL for that)."""
    from rostra.services.personal_data import PersonalData

    _one_person(email, site, subject)
    whom = email if email is not None else f"account {subject} of site {site}"
    # With the server's outbox hook: webhook receivers are told each comment was deleted.
    with open_services(state.settings, outbox=True) as services:
        personal = PersonalData(services.comments)
        account = None
        if subject is not None and site is not None:
            account = _account_of(personal, site, subject)
        if not yes:
            click.confirm(f"Erase everything stored under {whom}?", abort=True)
        if account is not None:
            done = personal.forget_account(account, actor="cli")
        else:
            assert email is not None
            done = personal.forget(email, actor="cli")
    click.echo(f"erased {done['comments']} comment(s), {done['subscriptions']} "
               f"subscription(s) and {done['accounts']} sign-on account(s) "
               f"({done['sessions']} session(s) ended); {done['notices']} notice(s) made "
               "anonymous")


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


def check_port_free(host: str, port: int) -> None:
    """Raise ClickException, in plain words, when ``host:port`` cannot be listened on."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise click.ClickException(f"cannot listen on {host!r}: not an address or a name "
                                   "of this machine (--host or the setting host)") from None
    family, kind, proto, _, address = infos[0]
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"{shown} is in use by another program: stop it, or choose another port "
                    "(--port or the setting port)") from None
            if exc.errno == errno.EACCES:
                raise click.ClickException(
                    f"{shown}: not allowed to listen there (ports below 1024 need "
                    "privileges; put a proxy in front of a higher port)") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise click.ClickException(
                    f"cannot listen on {host}: not an address of this machine "
                    "(--host or the setting host)") from None
            raise click.ClickException(f"cannot listen on {shown}: {exc.strerror}") from None


# How `rostra serve` runs uvicorn (the test servers run with the same): the client's
# address comes from Rostra's own trusted_proxies check, never from uvicorn's.
SERVER_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "proxy_headers": False,
    "server_header": False,
    # Live streams end as a stop begins (rostra.api.live.close_on_stop_signals); any
    # other response still open this long after (a slow download) is cut, so that a
    # server told to stop does stop.
    "timeout_graceful_shutdown": 30,
}


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    upgrade(settings)
    # Each worker loads the settings again: from the same file and the same database.
    state = click.get_current_context().find_object(CliState)
    if state is not None and config_path(state.config_file).exists():
        os.environ["ROSTRA_CONFIG"] = str(config_path(state.config_file).resolve())
    os.environ["ROSTRA_DATABASE_URL"] = settings.database_url
    if settings.demo_pages:
        os.environ["ROSTRA_DEMO_PAGES"] = "true"
    uvicorn.run(
        "rostra.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **SERVER_OPTIONS,
    )


@main.command()
@click.pass_obj
def doctor(state: CliState) -> None:
    """Check the deployment (configuration, database, sites' origins, email, Redis,
    secrets, proxy, posting priority) and say what is wrong; exit status 1 on errors.
    Changes nothing."""
    from rostra.doctor import Level, examine

    try:
        settings = load_settings(state.config_file, **state.overrides)
    except ConfigError as exc:
        click.echo(f"error: {exc}")
        sys.exit(1)
    report = examine(settings, config_path(state.config_file), state.unconfigured(settings))
    for level in (Level.OK, Level.WARNING, Level.ERROR):
        for line in report.of(level):
            click.echo(f"{level.value}: {line}")
    errors, warnings = report.of(Level.ERROR), report.of(Level.WARNING)
    if errors:
        click.echo(f"{len(errors)} error(s), {len(warnings)} warning(s)")
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
    host, port = host or settings.host, port or settings.port
    check_port_free(host, port)
    _run_server(settings, host, port, workers or settings.workers)


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

    check_port_free(host, port)
    # The demo's own file, wherever asked: its folder is made (a database_url's is not).
    Path(database).resolve().parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{Path(database).resolve()}"
    state.overrides["database_url"] = url
    state.overrides["demo_pages"] = True
    state._settings = None
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown_host}:{port}"
    origins = [base, f"http://localhost:{port}", f"http://127.0.0.1:{port}"]
    with open_services(state.settings, migrating=True) as services:
        seeded = ensure_demo(services, origins)
        login = _demo_editor(services, Path(database).resolve())
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
    ("rostra.commands.importing", "import_group", main, "import"),
    ("rostra.commands.importing", "export_command", main, "export"),
    ("rostra.commands.sites", "site_group", main, "site"),
    ("rostra.commands.staff", "user_group", main, "user"),
    ("rostra.commands.worker", "worker_command", main, "worker"),
    ("rostra.commands.moderation", "moderation_group", main, "moderation"),
    ("rostra.commands.report", "report_group", main, "report"),
    ("rostra.commands.sealing", "secrets_group", main, "secrets"),
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
    staff = StaffService(services.db, services.comments.hashing.ips, services.sealer)
    staff.create_user("editor", password, is_admin=True)
    login = f"sign in as editor / {password}"
    secret_file.write_text(login + "\n", encoding="utf-8")
    secret_file.chmod(0o600)
    return login


def _register_optional_commands() -> None:
    for module_name, attribute, group, name in FEATURE_COMMANDS:
        assert isinstance(group, FeatureCommands)
        group.features[name] = (module_name, attribute)


_register_optional_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
