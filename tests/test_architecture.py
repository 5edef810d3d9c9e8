"""The import contracts of pyproject.toml ([tool.importlinter]) hold: HTTP at the top,
the domain below services, storage below the domain (docs/architecture.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_imports_point_inward() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
         " sys.exit(lint_imports_command())", "--no-cache"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    # On failure the output names each broken contract and the import that breaks it.
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_code_passes_lint() -> None:
    # The rules are [tool.ruff.lint]'s; ruff comes with the test extra.
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "src", "tests", "tools", "bench"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
