"""`rostra doctor`: a deployment checked, and what is wrong said in plain words.

Each check gives findings: errors (Rostra will not work, or is unsafe), warnings (what a
careful operator fixes before going live) and the checks that passed. Nothing here
changes anything: no database file is created, no migration is run.
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from rostra.config import Settings, serving_problems, shown_url

if TYPE_CHECKING:
    from rostra.store.db import Database

TIMEOUT_SECONDS = 5.0
MIN_SECRET_LENGTH = 32


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    OK = "ok"


@dataclass(slots=True)
class Report:
    """The findings, in the order the checks made them."""

    findings: list[tuple[Level, str]] = field(default_factory=list)

    def error(self, text: str) -> None:
        self.findings.append((Level.ERROR, text))

    def warning(self, text: str) -> None:
        self.findings.append((Level.WARNING, text))

    def ok(self, text: str) -> None:
        self.findings.append((Level.OK, text))

    def of(self, level: Level) -> list[str]:
        return [text for found, text in self.findings if found is level]


def check_configuration(report: Report, settings: Settings, config_file: Path,
                        unconfigured: str | None) -> None:
    if unconfigured:
        report.error(unconfigured)
    elif config_file.exists():
        report.ok(f"configuration: {config_file.resolve()} (valid)")
    else:
        report.ok("configuration: no file; ROSTRA_* environment variables and defaults")
    for problem in serving_problems(settings):
        report.error(problem)
    check_environment(report, os.environ)


def check_environment(report: Report, environ: Mapping[str, str]) -> None:
    """ROSTRA_* variables a letter or two away from a setting's: a typo the server ignores
    (others, which other tools may use, are left alone)."""
    import difflib

    names = {f"ROSTRA_{name.upper()}" for name in Settings.model_fields}
    for key in sorted(environ):
        upper = key.upper()
        base = upper.removesuffix("_FILE")
        if not upper.startswith("ROSTRA_") or base in names or upper == "ROSTRA_CONFIG":
            continue
        near = difflib.get_close_matches(base, names, n=1, cutoff=0.85)
        if near:
            meant = near[0] + upper[len(base):]
            report.warning(f"environment: {key} is not a setting, so it is ignored: {meant}?")


def check_database(report: Report,
                   settings: Settings) -> list[tuple[str, tuple[str, ...]]] | None:
    """Reachable, migrated; returns each site's (id, origins) for the checks after it
    (None when the database cannot be read)."""
    from rostra.store import migrate
    from rostra.store.db import Database, DriverMissing
    from rostra.store.tables import sites

    url = settings.database_url
    shown = shown_url(url)
    if url.startswith("sqlite:///"):
        path = Path(url.split("///", 1)[1])
        if not path.parent.is_dir():
            report.error(f"database: {path.parent.resolve()}: no such folder for the SQLite "
                         "database (create it, or correct database_url)")
            return None
        if not path.exists():
            report.error(f"database: {path.resolve()} does not exist; `rostra init` (or "
                         "`rostra db upgrade`) creates it")
            return None
    try:
        db = Database(url, connect_timeout=int(TIMEOUT_SECONDS))
    except DriverMissing as exc:
        report.error(str(exc))
        return None
    try:
        try:
            current = migrate.current_revisions(db)
        except Exception as exc:  # any failure to connect is the finding
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0:1]
            report.error(f"database: cannot reach {shown}: {reason[0] if reason else exc}")
            return None
        heads = migrate.head_revisions(db)
        if migrate.unknown_revisions(db, current):
            report.error(migrate.newer_schema_message(shown, current))
            return None
        if current != heads:
            report.error(f"database: {shown} has schema {sorted(current) or 'none'}, this "
                         f"version needs {sorted(heads)}: run `rostra db upgrade`")
            return None
        report.ok(f"database: {shown} reachable, schema current ({', '.join(sorted(heads))})")
        from sqlalchemy import select

        with db.read() as conn:
            rows = conn.execute(select(sites.c.id, sites.c.origins).order_by(sites.c.id)).all()
        check_sealed_secrets(report, settings, db)
        return [(row.id, tuple(row.origins or ())) for row in rows]
    finally:
        db.dispose()


def check_sealed_secrets(report: Report, settings: Settings, db: Database) -> None:
    """Secrets the database keeps: still plain though secret_key is set (`rostra secrets
    seal`), or sealed under a key this configuration does not have."""
    from rostra.core.sealing import Sealer
    from rostra.services.stored_secrets import Mode, Outcome, StoredSecrets

    reports = StoredSecrets(db, Sealer(settings.secret_key)).run(Mode.STATUS)
    plain = sum(r.counts.get(Outcome.PLAIN, 0) for r in reports)
    sealed = sum(r.counts.get(Outcome.ALREADY_SEALED, 0) for r in reports)
    unopenable = sum(len(r.unopenable) for r in reports)
    for r in reports:
        for what, why in r.unopenable:
            report.warning(f"secrets: cannot open the secret of {what}: {why}; it stays off until "
                           "`rostra secrets seal --previous-key-file OLD_KEY_FILE` (see "
                           "docs/security.md)")
    if settings.secret_key and plain:
        report.warning(f"secrets: {plain} kept plain in the database; `rostra secrets seal` "
                       "seals them with secret_key")
    elif settings.secret_key and not unopenable:  # (those it cannot open: warned above)
        report.ok(f"secrets: {sealed} kept in the database, all sealed")


def check_origins(report: Report, site_origins: list[tuple[str, tuple[str, ...]]]) -> None:
    if not site_origins:
        report.warning("sites: none yet; add one with `rostra site add ID --name NAME "
                       "--origin https://your.site`")
        return
    owners: dict[str, list[str]] = {}
    for site_id, origins in site_origins:
        if not origins:
            report.warning(f"site {site_id}: allows no origin, so no page can embed its "
                           f"discussions: `rostra site origin add {site_id} https://your.site`")
        for origin in origins:
            owners.setdefault(origin, []).append(site_id)
            if origin.startswith("http://") and not _is_local_origin(origin):
                report.warning(f"site {site_id}: origin {origin} is plain http; readers' "
                               "pages should be served over https")
    for origin, ids in sorted(owners.items()):
        if len(ids) > 1:
            report.error(f"origin {origin} is allowed by sites {', '.join(ids)}: a page there "
                         f"cannot say which it belongs to; keep it on one "
                         f"(`rostra site origin remove {ids[-1]} {origin}`)")
    if all(len(ids) == 1 for ids in owners.values()):
        report.ok(f"sites: {len(site_origins)}, origins: {len(owners)}, none shared")


def _is_local_origin(origin: str) -> bool:
    host = origin.split("://", 1)[1].rsplit(":", 1)[0].strip("[]")
    return host == "localhost" or host.startswith("127.") or host == "::1"


def check_smtp(report: Report, settings: Settings,
               connect: Callable[[Settings], None] | None = None) -> None:
    if not settings.smtp_host:
        report.ok("email: off (smtp_host is empty)")
        return
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        (connect or _smtp_login)(settings)
    except smtplib.SMTPAuthenticationError:
        report.error(f"smtp: {where} refused the user name or password (smtp_username, "
                     "smtp_password)")
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        report.error(f"smtp: cannot talk to {where} with smtp_security = "
                     f"{settings.smtp_security!r}: {_reason(exc)}")
    else:
        report.ok(f"smtp: {where} answers ({settings.smtp_security}"
                  + (", signed in" if settings.smtp_username else "") + ")")


def _smtp_login(settings: Settings) -> None:
    server: smtplib.SMTP
    if settings.smtp_security == "tls":
        server = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                  timeout=TIMEOUT_SECONDS,
                                  context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
    try:
        server.ehlo()
        if settings.smtp_security == "starttls":
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
        if settings.smtp_username:
            server.login(settings.smtp_username, settings.smtp_password)
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()


def check_redis(report: Report, settings: Settings) -> None:
    if not settings.redis_url:
        if not settings.database_url.startswith("sqlite") or settings.workers > 1:
            report.warning("redis_url: empty, so rate limits are counted in each worker "
                           "process on its own: with several workers or servers a reader gets "
                           "that many times the limit; set redis_url to share them")
        return
    import redis

    shown = shown_url(settings.redis_url)
    try:
        client = redis.Redis.from_url(settings.redis_url,
                                      socket_connect_timeout=TIMEOUT_SECONDS,
                                      socket_timeout=TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        report.error(f"redis: cannot reach {shown}: {_reason(exc)}")
    else:
        report.ok(f"redis: {shown} answers")


def check_secret(report: Report, settings: Settings) -> None:
    key = settings.secret_key
    if not key:
        report.warning("secret_key: empty, so a generated key is kept in the database; set "
                       "it in rostra.toml (or ROSTRA_SECRET_KEY_FILE) so that a copy of the "
                       "database alone cannot forge tokens, reverse IP hashes or read the "
                       "secrets it keeps (nothing is sealed without it)")
    elif len(key) < MIN_SECRET_LENGTH or len(set(key)) < 12:
        report.error(f"secret_key: too weak ({len(key)} characters, {len(set(key))} distinct); "
                     f"use at least {MIN_SECRET_LENGTH} random characters, e.g. the output of "
                     "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    else:
        report.ok(f"secret_key: {len(key)} characters")


def check_public_url_and_proxies(report: Report, settings: Settings) -> None:
    public = settings.public_url
    local = ("http://127.", "http://localhost", "http://[::1]")
    if not public:
        report.warning("public_url: empty; set it to the address readers reach Rostra at "
                       "(e.g. https://comments.example.com): emails, feeds and sign-in need it")
    elif public.startswith("http://") and not public.startswith(local):
        report.warning("public_url: not https; serve Rostra behind TLS (see docs/security.md)")
    # Each entry is an address or a network: the settings refuse others as they load.
    networks = [ipaddress.ip_network(entry, strict=False) for entry in settings.trusted_proxies]
    if any(n.prefixlen == 0 for n in networks):
        report.error("trusted_proxies: trusts every address, so any reader can forge "
                     "X-Forwarded-For and pass rate limits and bans; list only the proxy's")
    behind_proxy = public.startswith("https://") or bool(public and settings.host in (
        "127.0.0.1", "localhost", "::1"))
    if public and not public.startswith(local) and behind_proxy and not networks:
        report.warning(f"trusted_proxies: empty while public_url is {public}: behind a proxy "
                       "every reader seems to come from the proxy's address, so rate limits "
                       "and bans by address hit everyone; set trusted_proxies = "
                       "[\"127.0.0.1/32\"] (the proxy's address) and have the proxy set "
                       "X-Forwarded-For (docs/deployment.md)")
    elif networks and settings.host in ("0.0.0.0", "::"):
        report.warning(f"host: {settings.host} listens on every address while "
                       "trusted_proxies is set: let only the proxy reach Rostra (listen on "
                       "loopback or a private address, or firewall the port)")
    elif networks:
        report.ok("proxy: X-Forwarded-For believed from " + ", ".join(settings.trusted_proxies))
    if not settings.metrics_token and settings.host not in ("127.0.0.1", "localhost", "::1"):
        report.warning("metrics_token: empty while listening on " + settings.host
                       + "; /metrics answers only loopback addresses until it is set")


CAP_SYS_NICE = 23  # its bit in /proc/PID/status's CapEff


def may_run_ahead(levels: int, nice: int, capabilities: int, nice_limit: int) -> bool:
    """Whether a process at ``nice``, with these effective capabilities and this soft
    RLIMIT_NICE (a nice value down to 20 - limit is allowed), may lower it by ``levels``."""
    return bool(capabilities >> CAP_SYS_NICE & 1) or nice - levels >= 20 - nice_limit


def check_posting_priority(report: Report, settings: Settings) -> None:
    """Whether posting processes will run ``posting_priority`` nice levels ahead of their
    workers, as the user running this command."""
    import os
    import resource

    levels = settings.posting_priority
    if not settings.posting_process or levels == 0:
        return
    try:
        status = Path("/proc/self/status").read_text()
        capabilities = int(next(line.split()[1] for line in status.splitlines()
                                if line.startswith("CapEff:")), 16)
    except (OSError, StopIteration, ValueError):
        capabilities = 0
    limit = resource.getrlimit(resource.RLIMIT_NICE)[0]
    if limit == resource.RLIM_INFINITY:
        limit = 40
    if may_run_ahead(levels, os.getpriority(os.PRIO_PROCESS, 0), capabilities, limit):
        report.ok(f"posting_priority: posting processes can run {levels} nice levels ahead "
                  "of their workers (as this user)")
        return
    report.warning(
        f"posting_priority: {levels}, but this user may not raise a priority (no "
        f"CAP_SYS_NICE, nice limit {20 - limit}), so posting processes run level with their "
        "workers and posting under heavy reading is slower; give the service a nice limit "
        f"(systemd: LimitNICE=-{levels}) or the capability (docker run --cap-add SYS_NICE), "
        "or set posting_priority = 0")


def check_file_modes(report: Report, settings: Settings, config_file: Path) -> None:
    paths = [config_file] if config_file.exists() else []
    if settings.database_url.startswith("sqlite:///"):
        db_path = Path(settings.database_url.split("///", 1)[1])
        paths += [p for p in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"))
                  if p.exists()]
    for path in paths:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            report.warning(f"{path}: mode {mode:o}; it holds secrets or personal data, make "
                           f"it readable by Rostra's user only (chmod 600 {path})")


def examine(settings: Settings, config_file: Path, unconfigured: str | None = None) -> Report:
    """Every check, in the order an operator fixes things."""
    report = Report()
    check_configuration(report, settings, config_file, unconfigured)
    if not unconfigured:
        site_origins = check_database(report, settings)
        if site_origins is not None:
            check_origins(report, site_origins)
    check_secret(report, settings)
    check_public_url_and_proxies(report, settings)
    check_smtp(report, settings)
    check_redis(report, settings)
    check_posting_priority(report, settings)
    check_file_modes(report, settings, config_file)
    return report


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer within {TIMEOUT_SECONDS:g} s"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
