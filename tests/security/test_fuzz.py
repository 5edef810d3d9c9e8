"""Schemathesis against a live server, from the server's own OpenAPI document: no 5xx,
and every status code, content type and body the document promises.

Bounded: a fixed number of examples per operation (ROSTRA_FUZZ_EXAMPLES, default 25)
and a fixed seed (ROSTRA_FUZZ_SEED), so that a run is repeatable and takes well under a
minute per database.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ORIGIN, running_server

EXAMPLES = int(os.environ.get("ROSTRA_FUZZ_EXAMPLES", "15"))
SEED = os.environ.get("ROSTRA_FUZZ_SEED", "20261206")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# "random": every parameter generated, so most ids and sites name nothing; "seeded":
# the seeded site, thread and comment fill those parameters, so requests reach deeper.
SEEDED = """
[parameters]
"path.site_id" = "fuzz"
"query.site" = "fuzz"
"path.comment_id" = 1
"query.thread" = "/fuzz/"
"""


def _schemathesis() -> list[str]:
    found = Path(sys.executable).with_name("st")
    return [str(found)] if found.exists() else [sys.executable, "-m", "schemathesis.cli"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["random", "seeded"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_it_gives_no_5xx_and_keeps_its_openapi_promises(backend: str, mode: str,
                                                        tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(SEEDED if mode == "seeded" else "", encoding="utf-8")
    token = "fuzz-" + secrets.token_hex(8)
    # Email on (a port nothing listens on, and no worker): subscribing is then possible.
    with running_server(backend, admin_token=token, smtp_host="127.0.0.1", smtp_port=9,
                        worker=False) as live:
        live.add_site("fuzz", [ORIGIN])
        with live.client() as http:
            posted = http.post("/api/comments", headers={"Origin": ORIGIN}, json={
                "site": "fuzz", "thread": "/fuzz/", "name": "F", "text": "seed"})
            assert posted.status_code == 201, posted.text
        result = subprocess.run(
            [*_schemathesis(), "--config-file", str(config), "run",
             f"{live.url}/api/openapi.json",
             "--checks", CHECKS, "--phases", "coverage,fuzzing",
             "--max-examples", str(EXAMPLES), "--seed", SEED,
             # One worker: with two, Hypothesis (inside schemathesis) sometimes crashes
             # describing its filters ("AST constructor recursion depth mismatch", a
             # CPython 3.11 race in ast under threads), which failed CI with no 5xx.
             "--workers", "1",
             "--header", f"Authorization: Bearer {token}",
             "--header", f"Origin: {ORIGIN}",
             # A valid request to the live-updates stream never ends: it is tested on
             # its own (tests/api/test_reads.py, tests/security/test_malformed_input.py).
             "--exclude-path", "/api/events",
             "--suppress-health-check", "all", "--generation-database", "none", "--no-color"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-20_000:]
    assert "Server error" not in report
