"""The operator's path, run as an operator runs it: real `rostra` processes in a folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx

from tests.cli.test_cli import ROSTRA, run
from tests.conftest import POSTGRES_URL, create_postgres_database, free_port, require


def test_it_manages_the_origins_of_a_site(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    assert run(["site", "add", "news", "--name", "News", "--origin", "https://news.example"],
               tmp_path).returncode == 0
    assert run(["site", "add", "blog", "--name", "Blog"], tmp_path).returncode == 0
    added = run(["site", "origin", "add", "blog", "HTTPS://Blog.Example:443/"], tmp_path)
    assert added.returncode == 0, added.stderr
    assert run(["site", "origin", "add", "blog", "https://www.blog.example"],
               tmp_path).returncode == 0
    listed = run(["site", "origin", "list", "blog"], tmp_path)
    assert listed.stdout.splitlines() == ["https://blog.example", "https://www.blog.example"]
    taken = run(["site", "origin", "add", "blog", "https://news.example"], tmp_path)
    assert taken.returncode == 1
    assert "origin https://news.example is already allowed by site 'news'" in taken.stderr
    assert "Traceback" not in taken.stderr
    also_taken = run(["site", "add", "third", "--name", "Third",
                      "--origin", "https://news.example"], tmp_path)
    assert also_taken.returncode == 1 and "already allowed by site 'news'" in also_taken.stderr
    removed = run(["site", "origin", "remove", "blog", "https://www.blog.example/"], tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert run(["site", "origin", "list", "blog"], tmp_path).stdout.splitlines() == [
        "https://blog.example"]
    missing = run(["site", "origin", "remove", "blog", "https://nope.example"], tmp_path)
    assert missing.returncode == 1 and "does not allow the origin" in missing.stderr
    unknown = run(["site", "origin", "list", "nosuch"], tmp_path)
    assert unknown.returncode == 1 and "no site with id 'nosuch'" in unknown.stderr
    bad = run(["site", "origin", "add", "blog", "ftp://x"], tmp_path)
    assert bad.returncode == 1 and "not an origin" in bad.stderr
    # Once a site gives an origin up, another may take it.
    assert run(["site", "origin", "remove", "news", "https://news.example"],
               tmp_path).returncode == 0
    assert run(["site", "origin", "add", "blog", "https://news.example"],
               tmp_path).returncode == 0


def test_it_inits_with_the_database_the_environment_names(tmp_path: Path) -> None:
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    # (The test server trusts local connections: the password is there to be hidden.)
    url = url.replace("://postgres@", "://postgres:s3cret-pass@", 1)
    try:
        result = run(["init"], tmp_path, ROSTRA_DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        assert "s3cret-pass" not in result.stdout + result.stderr
        assert "database ready: postgresql://postgres:***@" in result.stdout
        assert tomllib.loads((tmp_path / "rostra.toml").read_text())["database_url"] == url
        assert not (tmp_path / "rostra.sqlite3").exists()
        # Later commands find the database from the file alone.
        assert run(["site", "add", "news", "--name", "News"], tmp_path).returncode == 0
        assert "news\tNews" in run(["site", "list"], tmp_path).stdout
        assert not (tmp_path / "rostra.sqlite3").exists()
        flag = tmp_path / "flag"
        flag.mkdir()
        sqlite_url = f"sqlite:///{flag / 'comments.sqlite3'}"
        assert run(["--database-url", sqlite_url, "init"], flag).returncode == 0
        assert tomllib.loads((flag / "rostra.toml").read_text())["database_url"] == sqlite_url
        assert (flag / "comments.sqlite3").exists() and not (flag / "rostra.sqlite3").exists()
    finally:
        drop()


def test_it_says_what_to_install_when_the_postgres_driver_is_missing(tmp_path: Path) -> None:
    blocked = ("import sys; sys.modules['psycopg'] = None; sys.argv[0] = 'rostra'; "
               "from rostra.cli import main; main()")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}
    for args in (["site", "list"], ["init"], ["serve"], ["doctor"]):
        result = subprocess.run(
            [sys.executable, "-c", blocked, *args], cwd=tmp_path, capture_output=True,
            text=True, timeout=120, check=False,
            env={**environment, "ROSTRA_DATABASE_URL": "postgresql://rostra@127.0.0.1/x"})
        assert result.returncode == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert "pip install 'rostra[postgres]'" in result.stdout + result.stderr, result.stderr
        assert not (tmp_path / "rostra.toml").exists(), args  # init writes nothing then


def test_it_creates_no_database_outside_a_configured_folder(tmp_path: Path) -> None:
    for args in (["site", "list"], ["site", "add", "x", "--name", "X"], ["db", "upgrade"],
                 ["export", "out.jsonl"], ["user", "list"]):
        result = run(args, tmp_path)
        assert result.returncode == 1, (args, result.stdout)
        assert "no rostra.toml" in result.stderr and "rostra init" in result.stderr, result.stderr
        assert not (tmp_path / "rostra.sqlite3").exists(), args
    port = free_port()
    served = run(["serve", "--port", str(port)], tmp_path)
    assert served.returncode == 1 and "rostra init" in served.stderr
    assert list(tmp_path.iterdir()) == []
    # A database named outright is the operator's choice; so is one already here.
    named = run(["--database-url", f"sqlite:///{tmp_path / 'named.sqlite3'}", "site", "list"],
                tmp_path)
    assert named.returncode == 0, named.stderr
    (tmp_path / "named.sqlite3").rename(tmp_path / "rostra.sqlite3")
    assert run(["site", "list"], tmp_path).returncode == 0


def test_it_says_plainly_that_the_port_is_busy(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["serve", "--port", str(port)], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: 127.0.0.1:{port} is in use by another program: stop it, or choose "
        "another port (--port or the setting port)")
    assert "Traceback" not in result.stderr and "{" not in result.stderr


def test_it_keeps_the_logs_of_every_worker_and_reads_the_named_config(tmp_path: Path) -> None:
    home = tmp_path / "srv"
    home.mkdir()
    assert run(["init"], home).returncode == 0
    config = home / "rostra.toml"
    config.write_text(config.read_text() + f'\ndatabase_url = "sqlite:///{home}/c.sqlite3"\n'
                      'log_level = "debug"\n')
    elsewhere = tmp_path / "elsewhere"  # the named file is read, wherever the command runs
    elsewhere.mkdir()
    port = free_port()
    process = subprocess.Popen(
        [*ROSTRA, "--config", str(config), "serve", "--workers", "2", "--port", str(port)],
        cwd=elsewhere, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")})
    logged: list[str] = []  # stderr as it comes: the workers' JSON log lines
    reader = threading.Thread(target=lambda: logged.extend(process.stderr or ()), daemon=True)
    reader.start()

    def requests_logged() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in list(logged) if line.startswith("{")]
        return [r for r in lines if r.get("message", "").startswith("GET /api/comments")]

    try:
        deadline = time.monotonic() + 90
        answered = 0
        # Until both workers have answered: the first to start may take every connection
        # while the other is still loading.
        while answered < 40 or len({r["pid"] for r in requests_logged()}) < 2:
            assert process.poll() is None and time.monotonic() < deadline, (
                "serve stopped, or one worker never answered")
            try:
                with httpx.Client() as fresh:  # a new connection: either worker may take it
                    fresh.get(f"http://127.0.0.1:{port}/api/comments",
                              params={"site": "nosuch", "thread": "/x"})
                answered += 1
            except httpx.TransportError:
                time.sleep(0.2)
        assert not (elsewhere / "rostra.sqlite3").exists()
        assert (home / "c.sqlite3").exists()
        # A production server does not serve the demo pages (`rostra demo` does).
        assert httpx.get(f"http://127.0.0.1:{port}/demo/").status_code == 404
    finally:
        process.terminate()
        process.wait(timeout=30)
        reader.join(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
    requests = requests_logged()
    assert len(requests) == answered, "".join(logged)[-3000:]
    assert len({r["pid"] for r in requests}) == 2, "both workers log their requests"
