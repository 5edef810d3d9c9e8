"""Closing the database while another thread is still inside a query (a cancelled task's
thread, when a server stops) waits for the query instead of crashing the process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import sys, threading, time
    from sqlalchemy import text
    from rostra.store.db import Database

    db = Database("sqlite:///" + sys.argv[1])
    started = threading.Event()
    result = []

    def slow_query():
        with db.read() as conn:
            started.set()
            result.append(conn.execute(text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                "WHERE i < 3000000) SELECT count(*) FROM n")).scalar())

    worker = threading.Thread(target=slow_query)
    worker.start()
    started.wait()
    time.sleep(0.05)
    db.dispose()
    worker.join()
    print(result)
""")


def test_it_waits_for_a_running_query_before_closing(tmp_path: Path) -> None:
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "db.sqlite3")],
                             capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.stdout.strip() == "[3000000]"
