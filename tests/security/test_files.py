"""Files Rostra makes: the SQLite database and its WAL files readable by their owner
only, and nothing left behind in /tmp by a multi-worker server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from rostra.cli import main
from rostra.store.db import Database
from tests.conftest import free_port

ROSTRA = [sys.executable, "-m", "rostra.cli"]


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_it_creates_the_database_and_its_wal_files_for_their_owner_only(
    tmp_path: Path
) -> None:
    old = os.umask(0o022)  # the usual umask, which makes files 0644
    try:
        (tmp_path / "data").mkdir()
        db = Database(f"sqlite:///{tmp_path / 'data' / 'rostra.sqlite3'}")
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with db.read() as conn:
            conn.exec_driver_sql("SELECT * FROM t").all()
        files = sorted((tmp_path / "data").iterdir())
        assert {f.name for f in files} >= {"rostra.sqlite3", "rostra.sqlite3-wal",
                                           "rostra.sqlite3-shm"}
        for path in files:
            assert _mode(path) == 0o600, (path.name, oct(_mode(path)))
        db.dispose()
    finally:
        os.umask(old)


def test_it_has_init_make_config_and_database_private(tmp_path: Path,
                                                      monkeypatch: object) -> None:
    old = os.umask(0o022)
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        result = CliRunner().invoke(main, ["init"])
        assert result.exit_code == 0, result.output
        assert _mode(tmp_path / "rostra.toml") == 0o600
        assert _mode(tmp_path / "rostra.sqlite3") == 0o600
        doctor = CliRunner().invoke(main, ["doctor"])
        assert "mode" not in doctor.output, doctor.output
        (tmp_path / "rostra.sqlite3").chmod(0o644)
        doctor = CliRunner().invoke(main, ["doctor"])
        assert "rostra.sqlite3: mode 644" in doctor.output
    finally:
        os.chdir(cwd)
        os.umask(old)


def test_it_leaves_no_metrics_folder_behind_after_serving_with_workers(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    port = free_port()
    env = {**os.environ, "TMPDIR": str(scratch),
           "ROSTRA_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "ROSTRA_CLASSIFIER": "off", "ROSTRA_SECRET_KEY": "files-test"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen([*ROSTRA, "serve", "--workers", "2", "--port", str(port)],
                               cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("server did not start")
            time.sleep(0.2)
        assert [p.name for p in scratch.iterdir() if p.name.startswith("rostra-prom-")]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert not [p for p in scratch.iterdir() if p.name.startswith("rostra-prom-")]
