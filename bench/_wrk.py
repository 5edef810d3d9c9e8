"""Drive one endpoint with wrk and read back its numbers.

Each load is turned into a small Lua script: fixed requests are built once, posts
get a fresh body per request (a counter, and random words where asked, so no two
comments are alike), and a ``done`` hook prints one JSON line that we parse instead of
wrk's prose.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from _seed import VOCABULARY

# Marks the line our Lua `done` hook prints; wrk's own output is ignored.
_MARKER = "BENCH_JSON "

_DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d}\\n',
    "MARKER", summary.requests, summary.duration, summary.bytes, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
""".replace("MARKER", _MARKER)


@dataclass(frozen=True)
class Load:
    """One kind of request. ``body`` may hold ``{n}``: replaced by a per-request counter."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured. Latencies in milliseconds."""

    connections: int
    duration_s: float
    requests: int
    ok: int
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    bytes_read: int
    # CPU time the server used during the run; set by the caller, who knows the server.
    server_cpu_s: float | None = None

    @property
    def cpu_ms_per_request(self) -> float | None:
        """Server CPU per answered request: unlike req/s, barely moved by other load."""
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1000 / self.requests

    @property
    def rps(self) -> float:
        """Successful (2xx/3xx) responses per second."""
        return self.ok / self.duration_s if self.duration_s else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "connections": self.connections,
            "duration_s": round(self.duration_s, 3),
            "requests": self.requests,
            "ok": self.ok,
            "rps": round(self.rps, 1),
            "errors": self.errors,
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "bytes_read": self.bytes_read,
            "server_cpu_s": None if self.server_cpu_s is None else round(self.server_cpu_s, 3),
            "cpu_ms_per_request": None if self.cpu_ms_per_request is None
            else round(self.cpu_ms_per_request, 4),
        }




def _lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def lua_script(load: Load) -> str:
    """The Lua that makes wrk send ``load``."""
    headers = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in load.headers.items())
    lines = [f"local headers = {{{headers}}}"]
    if load.body is not None and ("{n}" in load.body or "{words}" in load.body):
        # A fresh body per request: the pieces around {n} joined with the counter, and
        # {words} replaced by a dozen words drawn at random (so that a moderation check
        # for copy-paste floods sees ordinary, different comments).
        parts = re.split(r"(\{n\}|\{words\})", load.body)
        pieces = " .. ".join(
            "n" if part == "{n}" else "words()" if part == "{words}" else _lua_string(part)
            for part in parts if part
        )
        vocabulary = ", ".join(_lua_string(word) for word in VOCABULARY)
        lines += [
            "local n = 0",
            # A new seed for every run: the same words again would be copies of the last
            # run's comments.
            f"math.randomseed({random.randrange(1, 2**31)})",
            f"local vocabulary = {{{vocabulary}}}",
            "local function words()",
            "  local out = {}",
            "  for i = 1, 12 do out[i] = vocabulary[math.random(#vocabulary)] end",
            '  return table.concat(out, " ")',
            "end",
            "request = function()",
            "  n = n + 1",
            (f"  return wrk.format({_lua_string(load.method)}, {_lua_string(load.path)}, "
             f"headers, {pieces})"),
            "end",
        ]
    else:
        body = "nil" if load.body is None else _lua_string(load.body)
        # Built once: wrk reuses the same bytes for every request.
        lines += [
            (f"local req = wrk.format({_lua_string(load.method)}, {_lua_string(load.path)}, "
             f"headers, {body})"),
            "request = function() return req end",
        ]
    return "\n".join(lines) + "\n" + _DONE_HOOK


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk not found: install it (Debian: apt-get install wrk)")
    return found


def wrk_version() -> str:
    # `wrk -v` prints its version and usage, then exits non-zero.
    proc = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True, check=False)
    return (proc.stdout + proc.stderr).splitlines()[0].strip()


def run_wrk(
    base_url: str,
    load: Load,
    *,
    connections: int,
    duration_s: float,
    timeout_s: float,
    script_dir: Path,
) -> WrkResult:
    """Run wrk with one thread (-t1) against ``base_url`` and return its numbers."""
    script = script_dir / f"load-{abs(hash((load.method, load.path, load.body))):x}.lua"
    script.write_text(lua_script(load), encoding="utf-8")
    argv = [
        wrk_path(), "-t1", f"-c{connections}", f"-d{duration_s:g}s",
        f"--timeout={timeout_s:g}s", "-s", str(script), base_url,
    ]
    # wrk stops by itself after -d; the margin only guards against a wedged wrk.
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=duration_s + timeout_s + 30, check=False
    )
    for line in proc.stdout.splitlines():
        if line.startswith(_MARKER):
            raw = json.loads(line[len(_MARKER):])
            break
    else:
        raise RuntimeError(f"wrk gave no result: {proc.stdout}\n{proc.stderr}")
    errors = {k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]}
    return WrkResult(
        connections=connections,
        duration_s=raw["duration_us"] / 1e6,
        requests=raw["requests"],
        ok=raw["requests"] - raw["status"],
        errors=errors,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        bytes_read=raw["bytes"],
    )
