"""`rostra moderation score`: more lines it refuses, each named by file and line, before
any model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rostra.cli import main


@pytest.mark.parametrize(("content", "message"), [
    ('\n{"text": "fine"}\n["text", "fine"]\n', 'mine.jsonl:3: expected an object with a "text"'),
    ('{"text": "fine", "lang": "x"}\n', 'mine.jsonl:1: "lang" must be a language code such as'),
    ('{"text": "fine", "lang": 7}\n', 'mine.jsonl:1: "lang" must be a language code such as'),
    (('{"text": "fine", "label": "spam"}\n{"text": "fine", "label": "neutral", "lang": "en"}\n'
      '{"text": 3}\n'), 'mine.jsonl:3: "text" must be a non-empty string'),
], ids=["array", "short-lang", "number-lang", "after-good-labels"])
def test_it_names_the_line_it_cannot_score(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "mine.jsonl"
    src.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["moderation", "score", str(src), "--classifier", "use3"])
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""
