"""The command line, run as a user runs it: real processes in an empty directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from rostra.cli import main
from rostra.config import Settings
from tests.conftest import free_port, repo_root

ROSTRA = [sys.executable, "-m", "rostra.cli"]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}
    environment.update(env)
    return subprocess.run([*ROSTRA, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=environment, check=False)


def test_it_inits_a_commented_config_and_a_database(tmp_path: Path) -> None:
    result = run(["init"], tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "rostra.toml").read_text()
    config = tomllib.loads(text)
    assert set(config) == {"secret_key"} and len(config["secret_key"]) > 30
    for name in Settings.model_fields:
        assert f"{name} = " in text, f"{name} missing from the written config"
    assert (tmp_path / "rostra.sqlite3").exists()
    again = run(["init"], tmp_path)
    assert again.returncode != 0 and "exists" in again.stderr


def test_it_adds_and_lists_sites(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    added = run(["site", "add", "gazette", "--name", "The Gazette",
                 "--origin", "HTTPS://Gazette.Example:443/"], tmp_path)
    assert added.returncode == 0, added.stderr
    listed = run(["site", "list"], tmp_path)
    assert "gazette\tThe Gazette\thttps://gazette.example" in listed.stdout
    duplicate = run(["site", "add", "gazette", "--name", "Again"], tmp_path)
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr
    bad = run(["site", "add", "Bad Id", "--name", "x"], tmp_path)
    assert bad.returncode == 1 and "site id" in bad.stderr


def test_it_reports_bad_configuration_clearly(tmp_path: Path) -> None:
    (tmp_path / "rostra.toml").write_text('port = "eighty"\nunknown_thing = 1\n')
    result = run(["db", "upgrade"], tmp_path)
    assert result.returncode == 1
    assert "unknown setting(s): unknown_thing" in result.stderr
    (tmp_path / "rostra.toml").write_text('port = 99999\n')
    result = run(["db", "upgrade"], tmp_path)
    assert "port:" in result.stderr and "Traceback" not in result.stderr
    env_result = run(["db", "upgrade"], tmp_path, ROSTRA_PORT="80", ROSTRA_LOG_LEVEL="loud")
    assert "log_level" in env_result.stderr


def test_it_says_in_one_line_that_the_database_cannot_be_reached(tmp_path: Path) -> None:
    # Nothing listens on the port (a PostgreSQL server down, or a typo in its address),
    # and a SQLite "file" that is a folder: each command that opens the database says so
    # and names it, instead of printing the driver's traceback.
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/rostra"
    (tmp_path / "folder").mkdir()
    folder = f"sqlite:///{tmp_path / 'folder'}"
    for url, reason in [(down, "Connection refused"), (folder, "unable to open database")]:
        for args in (["db", "upgrade"], ["site", "list"], ["serve", "--port", str(free_port())],
                     ["init"]):
            result = run(args, tmp_path, ROSTRA_DATABASE_URL=url)
            assert result.returncode == 1, (args, result.stderr)
            assert "Traceback" not in result.stderr, (args, result.stderr)
            last = result.stderr.strip().splitlines()[-1]
            assert last.startswith(f"Error: database: cannot reach {url}: "), (args, last)
            assert reason in last, (args, last)
            (tmp_path / "rostra.toml").unlink(missing_ok=True)


def test_it_refuses_a_sqlite_database_in_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    # A typo in database_url's folder: said in one line naming the folder, which is not
    # made (a new file in a folder that exists is, as `rostra init` makes one).
    missing = tmp_path / "srv" / "rostar"
    url = f"sqlite:///{missing / 'rostra.sqlite3'}"
    for args in (["db", "upgrade"], ["site", "list"], ["init"]):
        result = run(args, tmp_path, ROSTRA_DATABASE_URL=url)
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr, (args, result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"Error: {missing}: no such folder for the SQLite database"), \
            (args, last)
        assert not (tmp_path / "srv").exists() and not (tmp_path / "rostra.toml").exists(), args
    (tmp_path / "srv").mkdir()
    made = run(["db", "upgrade"], tmp_path,
               ROSTRA_DATABASE_URL=f"sqlite:///{tmp_path / 'srv' / 'rostra.sqlite3'}")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "srv" / "rostra.sqlite3").exists()


def test_it_names_the_variable_of_a_list_or_url_it_cannot_read(tmp_path: Path) -> None:
    # A list in the environment is JSON; an operator's first try is the bare value. And a
    # Redis URL must be one: each said in one line naming the variable, no traceback.
    (tmp_path / "rostra.toml").write_text("")
    for env, message in [
        ({"ROSTRA_TRUSTED_PROXIES": "10.0.0.5/32"},
         'ROSTRA_TRUSTED_PROXIES: not a JSON list; write it as \'["10.0.0.5/32"]\''),
        ({"ROSTRA_OIDC_PROVIDERS": "{oops"}, "ROSTRA_OIDC_PROVIDERS: not a JSON list"),
        ({"ROSTRA_REDIS_URL": "cache.internal:6379"},
         "redis_url: Value error, must start with redis://, rediss:// or unix://"),
    ]:
        for args in (["site", "list"], ["doctor"]):
            result = run(args, tmp_path, **env)
            assert result.returncode == 1, (env, args, result.stdout, result.stderr)
            said = result.stdout + result.stderr
            assert "Traceback" not in said and message in said, (env, args, said)
    listed = run(["site", "list"], tmp_path, ROSTRA_TRUSTED_PROXIES='["10.0.0.5/32"]',
                 ROSTRA_REDIS_URL="")
    assert listed.returncode == 0, listed.stderr


def test_it_refuses_a_trusted_proxy_that_is_no_address_when_the_settings_load(
        tmp_path: Path) -> None:
    # Before, only `rostra doctor` said so, and `rostra serve` started with it.
    (tmp_path / "rostra.toml").write_text('trusted_proxies = ["10.0.0.5", "10.0.0.300/32"]\n')
    message = ("trusted_proxies: Value error, '10.0.0.300/32' is not an address or a network "
               "(e.g. 10.0.0.5 or 10.0.0.0/24)")
    for args, env in [(["serve", "--port", str(free_port())], {}), (["site", "list"], {}),
                      (["doctor"], {}),
                      (["site", "list"], {"ROSTRA_TRUSTED_PROXIES": '["proxy.internal"]'})]:
        result = run(args, tmp_path, **env)
        said = result.stdout + result.stderr
        assert result.returncode == 1, (args, said)
        assert "Traceback" not in said, (args, said)
        wanted = message if not env else message.replace("'10.0.0.300/32'", "'proxy.internal'")
        assert wanted in said.splitlines()[-1], (args, said)
    assert not (tmp_path / "rostra.sqlite3").exists()


def test_it_refuses_a_worker_poll_interval_under_a_tenth_of_a_second(tmp_path: Path) -> None:
    # --poll -1 (or 0) made an idle worker look at the outbox 100 times a second.
    url = f"sqlite:///{tmp_path / 'rostra.sqlite3'}"
    for poll in ("-1", "0", "0.01"):
        result = CliRunner().invoke(main, ["--database-url", url, "worker", "--once",
                                           "--poll", poll])
        assert result.exit_code == 2, (poll, result.output)
        assert "Invalid value for '--poll'" in result.output, (poll, result.output)
        assert "is not in the range x>=0.1" in result.output, (poll, result.output)
    assert not (tmp_path / "rostra.sqlite3").exists()


def test_it_writes_exports_readable_by_their_owner_only(tmp_path: Path) -> None:
    # An export holds every commenter's email address, as the database (mode 0600) does;
    # under the usual umask 022 it must not come out readable by every local user.
    assert run(["init"], tmp_path).returncode == 0
    assert run(["site", "add", "news", "--name", "News"], tmp_path).returncode == 0
    for args, name in [(["export", "all.jsonl.gz"], "all.jsonl.gz"),
                       (["export", "all.jsonl"], "all.jsonl"),
                       (["privacy", "export", "ana@example.org", "--output", "ana.json"],
                        "ana.json")]:
        result = subprocess.run(["sh", "-c", 'umask 022 && exec "$@"', "sh", *ROSTRA, *args],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120,
                                check=False, env={k: v for k, v in os.environ.items()
                                                  if not k.startswith("ROSTRA_")})
        assert result.returncode == 0, result.stderr
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name


def test_it_finds_the_database_next_to_a_configuration_named_from_elsewhere(
        tmp_path: Path) -> None:
    # `rostra init` in /srv/rostra leaves database_url at its default, sqlite:///rostra.sqlite3;
    # `rostra --config /srv/rostra/rostra.toml …` run from another folder (a cron job, a
    # shell in ~) must use that database, not create an empty one where it runs.
    srv, elsewhere = tmp_path / "srv", tmp_path / "elsewhere"
    srv.mkdir()
    elsewhere.mkdir()
    assert run(["init"], srv).returncode == 0
    assert run(["site", "add", "news", "--name", "News"], srv).returncode == 0
    for args, env in [(["--config", str(srv / "rostra.toml"), "site", "list"], {}),
                      (["--config", "../srv/rostra.toml", "site", "list"], {}),
                      (["site", "list"], {"ROSTRA_CONFIG": str(srv / "rostra.toml")})]:
        listed = run(args, elsewhere, **env)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.startswith("news\tNews"), (args, listed.stdout)
        assert list(elsewhere.iterdir()) == [], args
    doctor = run(["--config", str(srv / "rostra.toml"), "doctor"], elsewhere)
    assert f"database: sqlite:///{srv / 'rostra.sqlite3'} reachable" in doctor.stdout


def test_it_says_in_one_line_that_it_cannot_write_an_output_file(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    missing = tmp_path / "no-such-folder"
    for args, path in [
        (["export", str(missing / "all.jsonl.gz")], missing / "all.jsonl.gz"),
        (["privacy", "export", "ana@example.org", "--output", str(missing / "ana.json")],
         missing / "ana.json"),
        (["report", "dsa", "--from", "2026-01-01", "--to", "2026-06-30",
          "--output", str(missing / "dsa.csv")], missing / "dsa.csv"),
    ]:
        result = run(args, tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr, (args, result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"Error: {path}: "), (args, last)


def test_it_inits_a_relative_database_url_where_later_runs_find_it(tmp_path: Path) -> None:
    # ROSTRA_DATABASE_URL=sqlite:///c.sqlite3 rostra --config conf/rostra.toml init: the
    # database is made here, and the file wrote the relative path, which later runs take
    # from conf/ (a relative path in the file is next to it): an empty database there.
    here, conf = tmp_path / "here", tmp_path / "conf"
    here.mkdir()
    conf.mkdir()
    (conf / "rostra.toml").write_text("")  # overwritten (--force); without one, too
    for args in (["--config", "../conf/rostra.toml", "init", "--force"],
                 ["--config", "../conf/rostra.toml", "init", "--force"]):
        made = run(args, here, ROSTRA_DATABASE_URL="sqlite:///c.sqlite3")
        assert made.returncode == 0, made.stderr
        assert (here / "c.sqlite3").exists()
        written = tomllib.loads((conf / "rostra.toml").read_text())["database_url"]
        assert written == f"sqlite:///{here / 'c.sqlite3'}"
        (conf / "rostra.toml").unlink()
    assert run(["--config", "../conf/rostra.toml", "init"], here,
               ROSTRA_DATABASE_URL="sqlite:///c.sqlite3").returncode == 0
    added = run(["--config", str(conf / "rostra.toml"), "site", "add", "news", "--name", "N"],
                tmp_path)
    assert added.returncode == 0, added.stderr
    assert not (conf / "c.sqlite3").exists()
    listed = run(["site", "list"], here, ROSTRA_DATABASE_URL="sqlite:///c.sqlite3")
    assert listed.stdout.startswith("news\tN"), listed.stdout
    # In the configuration's own folder, the relative path stays as given.
    assert run(["--database-url", "sqlite:///d.sqlite3", "--config", "rostra2.toml", "init"],
               here).returncode == 0
    assert tomllib.loads((here / "rostra2.toml").read_text())["database_url"] == \
        "sqlite:///d.sqlite3"


def test_it_reads_settings_from_env_and_secret_files(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from rostra.config import load_settings

    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    (tmp_path / "rostra.toml").write_text('port = 9000\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("ROSTRA_PORT", "9100")
    monkeypatch.setenv("ROSTRA_SECRET_KEY_FILE", str(secret))
    settings = load_settings(tmp_path / "rostra.toml")
    assert (settings.port, settings.host, settings.secret_key) == (9100, "0.0.0.0", "s3cret")


def test_it_names_public_url_once_in_its_error(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # It said "public_url: Value error, public_url: an http(s) address …".
    from rostra.config import ConfigError, load_settings

    monkeypatch.chdir(tmp_path)  # no rostra.toml here
    monkeypatch.delenv("ROSTRA_CONFIG", raising=False)
    monkeypatch.setenv("ROSTRA_PUBLIC_URL", "comments.example.com")
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value).splitlines()[1] == (
        "  public_url: Value error, an http(s) address such as https://comments.example.com "
        "(a path is allowed; no query, fragment or user name)")


def test_it_migrates_only_when_told_and_other_commands_say_so(tmp_path: Path) -> None:
    # A database an older version left: `site list` upgraded it, silently to the operator
    # (and under that version's servers); now it and every other command that reads or
    # changes data refuse, doctor reports, and `rostra db upgrade` migrates.
    from rostra.store import migrate
    from rostra.store.db import Database

    assert run(["init"], tmp_path).returncode == 0
    (tmp_path / "rostra.sqlite3").unlink()
    db = Database(f"sqlite:///{tmp_path / 'rostra.sqlite3'}")
    try:
        migrate.upgrade(db, "0006")
        heads = sorted(migrate.head_revisions(db))
    finally:
        db.dispose()

    def schema() -> set[str]:
        db = Database(f"sqlite:///{tmp_path / 'rostra.sqlite3'}")
        try:
            return migrate.current_revisions(db)
        finally:
            db.dispose()

    for args in (["site", "list"], ["site", "add", "news", "--name", "News"],
                 ["export", "all.jsonl"]):
        result = run(args, tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.strip().splitlines()[-1] == (
            "Error: database: sqlite:///rostra.sqlite3 has schema ['0006'], "
            f"this version needs {heads}: run `rostra db upgrade` (this command does not "
            "migrate)"), (args, result.stderr)
        assert schema() == {"0006"}, args
    doctor = run(["doctor"], tmp_path)
    assert "has schema ['0006'], this version needs" in doctor.stdout, doctor.stdout
    assert schema() == {"0006"}
    upgraded = run(["db", "upgrade"], tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"migrated schema: ['0006'] -> {heads}" in upgraded.stderr
    assert run(["site", "add", "news", "--name", "News"], tmp_path).returncode == 0


def test_it_upgrades_the_database_idempotently(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    first = runner.invoke(main, ["--database-url", url, "db", "upgrade"])
    second = runner.invoke(main, ["--database-url", url, "db", "upgrade"])
    assert first.exit_code == 0 and second.exit_code == 0
    assert "schema is up to date" in second.output


def test_it_runs_the_demo_in_an_empty_directory(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen([*ROSTRA, "demo", "--no-browser", "--port", str(port)],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"{base}/api/comments", params={
                    "site": "demo", "thread": "/demo/2026/11/riverside-bridge-reopens",
                    "limit": "all"})
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("demo did not start") from None
                time.sleep(0.2)
        page = response.json()
        assert page["thread"]["total"] >= 200
        tombstones = [c for c in page["comments"] if c["state"] == "deleted"]
        assert tombstones and tombstones[0]["replies"], "the demo shows a deleted comment kept"
        assert any(c["score"] > 0 for c in page["comments"])
        assert httpx.get(f"{base}/api/docs").status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"{base}/demo/" in output and "API docs" in output
    assert (tmp_path / "rostra-demo.sqlite3").exists()


def test_it_documents_every_setting() -> None:
    """docs/configuration.md embeds the generated table; regenerate it with the command there."""
    import importlib.util

    from rostra.config import settings_markdown

    spec = importlib.util.spec_from_file_location("gen_docs", repo_root() / "tools" / "gen_docs.py")
    assert spec and spec.loader
    gen_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_docs)
    doc = (repo_root() / "docs" / "configuration.md").read_text()
    assert settings_markdown() in doc, "run: python tools/gen_docs.py to refresh docs"
    assert gen_docs.cli_help() in doc, "run: python tools/gen_docs.py to refresh docs"


def test_a_command_loads_only_what_it_needs(tmp_path: Path) -> None:
    # The import and export machinery (about a third of a second of imports) loads when
    # a command of it is named, not for `rostra site list`; `--help` still lists them.
    assert run(["init"], tmp_path).returncode == 0
    probe = ("import sys; sys.argv = ['rostra', 'site', 'list']\n"
             "from rostra.cli import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith(('rostra.importers', "
             "'rostra.commands.importing', 'rostra.services.importing'))))")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env=environment, check=False)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip().splitlines()[-1] == "[]"
    listed = run(["--help"], tmp_path).stdout
    for name in ("import", "export", "user", "worker", "moderation", "report", "secrets"):
        assert f"\n  {name} " in listed, listed
    assert "\n  move " in run(["site", "--help"], tmp_path).stdout
    assert run(["import", "--help"], tmp_path).returncode == 0


def test_it_says_a_database_is_newer_than_this_version_instead_of_upgrade_advice(
        tmp_path: Path) -> None:
    # A database a newer Rostra upgraded (an operator rolled the package back): `rostra
    # db upgrade` cannot help, and alembic's "Can't locate revision" traceback said
    # nothing useful.
    import sqlite3

    assert run(["init"], tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "rostra.sqlite3") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    expected = ("Error: database: sqlite:///rostra.sqlite3 has schema ['9999'], which "
                "this version of Rostra does not know: a newer version upgraded it. "
                "Run that version (this one cannot read the database)")
    for args in (["site", "list"], ["db", "upgrade"]):
        result = run(args, tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stderr.strip().splitlines()[-1] == expected, (args, result.stderr)
    doctor = run(["doctor"], tmp_path)
    assert "a newer version upgraded it" in doctor.stdout, doctor.stdout


def test_init_writes_the_configuration_file_rostra_config_names(tmp_path: Path) -> None:
    # Every other command reads $ROSTRA_CONFIG; init wrote ./rostra.toml instead, which
    # they then did not read.
    (tmp_path / "etc").mkdir()
    named = tmp_path / "etc" / "rostra.toml"
    result = run(["init"], tmp_path, ROSTRA_CONFIG=str(named))
    assert result.returncode == 0, result.stderr
    assert named.exists() and not (tmp_path / "rostra.toml").exists()
    assert (tmp_path / "etc" / "rostra.sqlite3").exists()  # next to its configuration
    added = run(["site", "add", "news", "--name", "News"], tmp_path, ROSTRA_CONFIG=str(named))
    assert added.returncode == 0, added.stderr
    assert "news" in run(["site", "list"], tmp_path, ROSTRA_CONFIG=str(named)).stdout
