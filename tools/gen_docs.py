"""Regenerate the generated parts of docs/: the settings table and `rostra --help`.

Run: python tools/gen_docs.py   (the test suite fails when docs/ is stale)
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from rostra.cli import main
from rostra.config import settings_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _replace(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"marker generated:{name} missing")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def cli_help() -> str:
    runner = CliRunner()
    parts = []
    for args in (["--help"], ["serve", "--help"], ["demo", "--help"], ["site", "--help"],
                 ["db", "--help"], ["init", "--help"]):
        result = runner.invoke(main, args, prog_name="rostra", terminal_width=100)
        parts.append(f"$ rostra {' '.join(args)}\n{result.output.rstrip()}")
    return "```\n" + "\n\n".join(parts) + "\n```"


def main_() -> None:
    path = DOCS / "configuration.md"
    text = path.read_text()
    text = _replace(text, "settings", settings_markdown())
    text = _replace(text, "cli", cli_help())
    path.write_text(text)


if __name__ == "__main__":
    main_()
