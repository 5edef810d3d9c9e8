"""`rostra doctor` on real deployments: a real database, a real SMTP server (aiosmtpd),
the local Redis, and ports where nothing answers."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner, Result
from sqlalchemy import update

from rostra.cli import main
from rostra.store import migrate
from rostra.store.db import Database
from rostra.store.tables import sites
from tests.conftest import POSTGRES_URL, free_port, require

REDIS_URL = "redis://127.0.0.1:6379/0"
SECRET = "kq3Vd8-Zp1xLw0Ty7Rb2Nc5Hs9Ga4Fe6Ju"


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


class Accepting:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


@pytest.fixture
def smtp_port() -> Iterator[int]:
    port = free_port()
    controller = Controller(Accepting(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in ("ROSTRA_DATABASE_URL", "ROSTRA_CONFIG", "ROSTRA_SMTP_HOST", "ROSTRA_PUBLIC_URL",
                "ROSTRA_REDIS_URL", "ROSTRA_SECRET_KEY"):
        monkeypatch.delenv(key, raising=False)
    return tmp_path


def doctor(*args: str) -> Result:
    return CliRunner().invoke(main, [*args, "doctor"])


def lines(result: Result, level: str) -> list[str]:
    return [line[len(level) + 2:] for line in result.output.splitlines()
            if line.startswith(level + ": ")]


def configure(folder: Path, **values: object) -> None:
    def toml(value: object) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(f'"{v}"' for v in value) + "]"
        return f"{value}" if isinstance(value, int) else f'"{value}"'

    text = "".join(f"{k} = {toml(v)}\n" for k, v in values.items())
    (folder / "rostra.toml").write_text(text)
    (folder / "rostra.toml").chmod(0o600)


def test_it_passes_a_sound_deployment(folder: Path, smtp_port: int) -> None:
    require(redis_up(), "Redis is not running on 127.0.0.1:6379")
    # Running ahead needs privileges that a developer's own account lacks (CI runs as root).
    root = os.geteuid() == 0
    configure(folder, secret_key=SECRET, public_url="https://comments.news.example",
              trusted_proxies=["127.0.0.1/32"], smtp_host="127.0.0.1", smtp_port=smtp_port,
              smtp_security="none", redis_url=REDIS_URL, posting_priority=5 if root else 0)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["site", "add", "news", "--name", "News",
                                "--origin", "https://news.example"]).exit_code == 0
    result = doctor()
    assert result.exit_code == 0, result.output
    assert lines(result, "error") == [] and lines(result, "warning") == [], result.output
    found = "\n".join(lines(result, "ok"))
    for expected in (f"configuration: {folder / 'rostra.toml'} (valid)",
                     "database: sqlite:///rostra.sqlite3 reachable, schema current",
                     "sites: 1, origins: 1, none shared", f"smtp: 127.0.0.1:{smtp_port} answers",
                     "redis: redis://127.0.0.1:6379/0 answers", "secret_key: 34 characters",
                     "proxy: X-Forwarded-For believed from 127.0.0.1/32",
                     *(["posting_priority: posting processes can run 5 nice levels ahead of "
                        "their workers"] if root else [])):
        assert expected in found, result.output
    assert result.output.rstrip().endswith("no errors")


def test_it_says_what_is_wrong_in_plain_words(folder: Path) -> None:
    dead = free_port()
    configure(folder, secret_key="changeme", public_url="https://comments.news.example",
              trusted_proxies=["0.0.0.0/0"], smtp_host="127.0.0.1", smtp_port=dead,
              smtp_security="none", redis_url=f"redis://127.0.0.1:{dead}/0")
    db = Database("sqlite:///rostra.sqlite3")
    migrate.upgrade(db, "0006")  # a database an older version left
    db.dispose()
    result = doctor()
    assert result.exit_code == 1
    errors = "\n".join(lines(result, "error"))
    assert "database: sqlite:///rostra.sqlite3 has schema ['0006'], this version needs" in errors
    assert "run `rostra db upgrade`" in errors
    assert "secret_key: too weak (8 characters" in errors
    assert "trusted_proxies: trusts every address" in errors
    assert f"smtp: cannot talk to 127.0.0.1:{dead}" in errors
    assert f"redis: cannot reach redis://127.0.0.1:{dead}/0" in errors
    assert "Traceback" not in result.output

    db = Database("sqlite:///rostra.sqlite3")
    migrate.upgrade(db)
    db.dispose()
    runner = CliRunner()
    runner.invoke(main, ["site", "add", "news", "--name", "News", "--origin", "https://n.example"])
    runner.invoke(main, ["site", "add", "blog", "--name", "Blog"])
    runner.invoke(main, ["site", "add", "old", "--name", "Old"])
    db = Database("sqlite:///rostra.sqlite3")
    with db.write() as conn:  # two sites sharing an origin, as before the rule
        conn.execute(update(sites).where(sites.c.id == "old").values(
            origins=["https://n.example"]))
    db.dispose()
    result = doctor()
    assert ("origin https://n.example is allowed by sites news, old: a page there cannot say "
            "which it belongs to") in "\n".join(lines(result, "error"))
    assert "site blog: allows no origin" in "\n".join(lines(result, "warning"))


def test_it_hides_the_database_password_and_says_it_cannot_connect(folder: Path) -> None:
    dead = free_port()
    configure(folder, secret_key=SECRET,
              database_url=f"postgresql://rostra:s3cret-pw@127.0.0.1:{dead}/rostra")
    result = doctor()
    assert result.exit_code == 1
    assert "s3cret-pw" not in result.output
    assert (f"database: cannot reach postgresql://rostra:***@127.0.0.1:{dead}/rostra"
            in result.output)
    assert "redis_url: empty, so rate limits are counted in each worker" in result.output


def test_it_checks_a_postgresql_database(folder: Path) -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    from tests.conftest import create_postgres_database

    url, drop = create_postgres_database(POSTGRES_URL)
    try:
        configure(folder, secret_key=SECRET, database_url=url)
        empty = doctor()
        assert "has schema none, this version needs" in empty.output
        assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
        ready = doctor()
        assert "reachable, schema current" in ready.output, ready.output
    finally:
        drop()


def test_it_changes_nothing_in_an_empty_folder(folder: Path) -> None:
    result = doctor()
    assert result.exit_code == 1
    assert "no rostra.toml in" in result.output and "rostra init" in result.output
    assert list(folder.iterdir()) == []


def test_it_names_a_missing_folder_of_the_sqlite_database(folder: Path) -> None:
    configure(folder, secret_key=SECRET, database_url=f"sqlite:///{folder}/rostar/r.sqlite3")
    result = doctor()
    assert result.exit_code == 1
    assert (f"database: {folder / 'rostar'}: no such folder for the SQLite database "
            "(create it, or correct database_url)") in lines(result, "error"), result.output
    assert not (folder / "rostar").exists()


def test_it_says_when_public_url_and_proxy_settings_disagree(folder: Path) -> None:
    configure(folder, secret_key=SECRET, public_url="https://comments.news.example")
    behind_tls = doctor()
    assert ("trusted_proxies: empty while public_url is https://comments.news.example"
            in behind_tls.output), behind_tls.output
    configure(folder, secret_key=SECRET, public_url="https://comments.news.example",
              trusted_proxies=["127.0.0.1/32", "not-an-address"])
    refused = doctor()  # as every command refuses such settings
    assert refused.exit_code == 1
    assert "trusted_proxies: Value error, 'not-an-address' is not an address or a network" in (
        refused.output)
    configure(folder, secret_key=SECRET, public_url="https://comments.news.example",
              trusted_proxies=["127.0.0.1/32"], host="0.0.0.0")
    open_port = doctor()
    assert "host: 0.0.0.0 listens on every address while trusted_proxies is set" in (
        open_port.output)
    configure(folder, secret_key=SECRET)
    bare = doctor()
    assert "public_url: empty; set it to the address readers reach Rostra at" in bare.output


def test_it_says_which_secrets_are_plain_or_cannot_be_opened(folder: Path) -> None:
    from rostra.core.sealing import Purpose, Sealer
    from rostra.store.tables import meta

    configure(folder, secret_key=SECRET)
    runner = CliRunner()
    assert runner.invoke(main, ["site", "add", "news", "--name", "News"]).exit_code == 0
    assert "secrets: 0 kept in the database, all sealed" in lines(doctor(), "ok")
    assert runner.invoke(main, ["site", "sso", "news"]).exit_code == 0
    assert "secrets: 1 kept in the database, all sealed" in lines(doctor(), "ok")
    db = Database(f"sqlite:///{folder / 'rostra.sqlite3'}")
    try:
        with db.write() as conn:
            conn.execute(meta.insert().values(key="sso_secret:plain", value="from-before"))
            conn.execute(meta.insert().values(key="sso_secret:other", value=Sealer(
                "another-key").seal("sealed-elsewhere", Purpose.SSO)))
    finally:
        db.dispose()
    result = doctor()
    warned = lines(result, "warning")
    assert ("secrets: 1 kept plain in the database; `rostra secrets seal` seals them with "
            "secret_key") in warned
    assert any(w.startswith("secrets: cannot open the secret of site 'other': sealed with "
                            "another secret_key") for w in warned), warned
    assert "from-before" not in result.output and "sealed-elsewhere" not in result.output


def test_it_does_not_call_secrets_it_cannot_open_all_sealed(folder: Path) -> None:
    # secret_key changed without `rostra secrets seal --previous-key-file`: the one secret
    # stored is sealed under the old key. Doctor warns about it and says no "all sealed".
    configure(folder, secret_key=SECRET)
    runner = CliRunner()
    assert runner.invoke(main, ["site", "add", "news", "--name", "News"]).exit_code == 0
    assert runner.invoke(main, ["site", "sso", "news"]).exit_code == 0
    configure(folder, secret_key=SECRET[::-1])
    result = doctor()
    assert [w for w in lines(result, "warning") if w.startswith(
        "secrets: cannot open the secret of site 'news': sealed with another secret_key")]
    assert not [o for o in lines(result, "ok") if o.startswith("secrets:")], result.output


def test_it_names_an_environment_variable_that_looks_like_a_misspelt_setting(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The server ignores ROSTRA_* variables that are no setting (other tools' may share the
    # prefix); one a letter away from a setting is a typo that silently does nothing.
    configure(folder, secret_key=SECRET)
    monkeypatch.setenv("ROSTRA_DATABSE_URL", "postgresql://rostra@db.internal/rostra")
    (folder / "smtp_password").write_text("s3cret\n")
    monkeypatch.setenv("ROSTRA_SMTP_PASSWRD_FILE", str(folder / "smtp_password"))
    monkeypatch.setenv("ROSTRA_SOMETHING_ELSE", "1")
    warned = lines(doctor(), "warning")
    assert ("environment: ROSTRA_DATABSE_URL is not a setting, so it is ignored: "
            "ROSTRA_DATABASE_URL?") in warned, warned
    assert ("environment: ROSTRA_SMTP_PASSWRD_FILE is not a setting, so it is ignored: "
            "ROSTRA_SMTP_PASSWORD_FILE?") in warned, warned
    assert not [w for w in warned if "ROSTRA_SOMETHING_ELSE" in w], warned


def test_it_says_whether_posting_processes_can_run_ahead_of_their_workers() -> None:
    from rostra.doctor import CAP_SYS_NICE, may_run_ahead

    # Root, or the capability (a container given --cap-add SYS_NICE).
    assert may_run_ahead(5, 0, 1 << CAP_SYS_NICE, 0)
    # A plain user with no nice limit (RLIMIT_NICE 0: down to 20), and one with systemd's
    # LimitNICE=-5 (a limit of 25: down to -5).
    assert not may_run_ahead(5, 0, 0, 0)
    assert may_run_ahead(5, 0, 0, 25)
    assert not may_run_ahead(6, 0, 0, 25)
    assert may_run_ahead(5, 10, 0, 15)  # a worker started at nice 10, down to 5
