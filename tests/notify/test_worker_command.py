"""`rostra worker`, the process an operator runs beside `serve`: it delivers what the
server queued (here a confirmation email), keeps running until SIGTERM and then exits
cleanly; `--once` delivers what is due and exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.notify.conftest import NotifyServer, address, wait_for

ROSTRA = [sys.executable, "-m", "rostra.cli"]


def _environment(notify: NotifyServer) -> dict[str, str]:
    """The server's settings, as an operator's environment gives them to the worker."""
    s = notify.live.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTRA_")}
    env.update({
        "ROSTRA_DATABASE_URL": s.database_url, "ROSTRA_SECRET_KEY": s.secret_key,
        "ROSTRA_SMTP_HOST": s.smtp_host, "ROSTRA_SMTP_PORT": str(s.smtp_port),
        "ROSTRA_SMTP_SECURITY": s.smtp_security, "ROSTRA_MAIL_FROM": s.mail_from,
        "ROSTRA_PUBLIC_URL": s.public_url, "ROSTRA_LOG_LEVEL": "warning",
        "ROSTRA_CLASSIFIER": "off",
    })
    return env


def test_it_delivers_until_stopped_and_once(notify: NotifyServer, http: httpx.Client,
                                            tmp_path: Path) -> None:
    site = notify.new_site()
    env = _environment(notify)
    worker = subprocess.Popen([*ROSTRA, "worker", "--poll", "0.2"], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = address()
        notify.subscribe(http, site, "/worker/", first)
        wait_for(lambda: notify.mailbox.to(first) or worker.poll() is not None, timeout=60,
                 what="the worker's confirmation email")
        assert worker.poll() is None, worker.communicate()
        [message] = notify.mailbox.to(first)
        assert "confirm" in str(message["Subject"]).lower()
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr

    second = address()
    notify.subscribe(http, site, "/worker/", second)
    once = subprocess.run([*ROSTRA, "worker", "--once"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert once.returncode == 0, once.stderr[-3000:]
    assert "delivered" in once.stdout and "batch(es)" in once.stdout
    assert len(notify.mailbox.to(second)) == 1
