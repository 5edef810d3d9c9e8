"""`rostra moderation score FILE`: an operator measures the classifier on their own comments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rostra.cli import main
from rostra.config import Settings
from rostra.services.container import Services
from rostra.store import migrate
from rostra.store.db import Database

pytestmark = pytest.mark.slow

COMMENTS = [
    {"id": "a", "text": "Thanks for the clear explanation of the new tram timetable.", "label": "civil", "lang": "en"},
    {"id": "b", "text": "The council's plan is a disgrace and they should all resign at the next election.",
     "label": "civil", "lang": "en"},
    {"id": "c", "text": "You are a brain-dead idiot and nobody wants to read your drivel.", "label": "abusive",
     "lang": "en"},
    {"id": "d", "text": "Danke für den Artikel, sehr gut recherchiert.", "label": "civil", "lang": "de"},
    {"id": "e", "text": "Du hirnloser Idiot, halt endlich die Klappe.", "label": "abusive", "lang": "de"},
    {"id": "f", "text": "Ich werde dich finden und dir alle Knochen brechen.", "label": "abusive", "lang": "de"},
]


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_it_scores_each_comment_as_the_server_would_and_sums_up_per_language(tmp_path: Path) -> None:
    src = write(tmp_path / "mine.jsonl", COMMENTS)
    out = tmp_path / "scored.jsonl"
    code, _, err = run("moderation", "score", str(src), "--output", str(out), "--classifier", "use3")
    assert code == 0, err
    scored = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in scored] == [c["id"] for c in COMMENTS]
    by_id = {r["id"]: r for r in scored}
    for r in scored:
        assert 0.0 <= r["score"] <= 1.0 and set(r["classes"]) >= {"threat", "insult", "spam"}
        assert r["decision"] in ("publish", "nudge", "hold", "refuse", "spam")
    assert by_id["a"]["decision"] == "publish" and by_id["d"]["decision"] == "publish"
    assert by_id["b"]["decision"] == "publish"  # blunt criticism of politicians is civil
    assert by_id["c"]["decision"] in ("nudge", "hold", "refuse")
    assert by_id["c"]["evidence"]["words"], by_id["c"]  # what drove it, for the operator too
    assert by_id["f"]["decision"] in ("hold", "refuse") and by_id["f"]["classes"]["threat"] > 0.5
    # The summary: ROC AUC and what the lines did, per language and for all.
    assert "ROC AUC" in err and "de" in err and "all" in err


def test_it_uses_a_sites_policy_with_site(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rostra.sqlite3'}"
    db = Database(url)
    migrate.upgrade(db)
    services = Services.build(Settings(database_url=url, secret_key="s", classifier="off"), db)
    services.sites.create("strict", "Strict", ["https://strict.example"])
    services.sites.update("strict", settings={"moderation": {"thresholds": {
        "toxicity_nudge": 0.0, "toxicity_hold": 0.0, "toxicity_refuse": 1.0}}})
    db.dispose()
    src = write(tmp_path / "mine.jsonl", COMMENTS[:2])
    code, stdout, err = run("--database-url", url, "moderation", "score", str(src), "--site", "strict",
                            "--classifier", "use3")
    assert code == 0, err
    # Lines at zero: every comment is at least nudged under this site's policy.
    assert {json.loads(line)["decision"] for line in stdout.splitlines()} <= {"nudge", "hold"}
    code, _, err = run("--database-url", url, "moderation", "score", str(src), "--site", "nosuch")
    assert code != 0 and "no site 'nosuch'" in err


@pytest.mark.parametrize(("content", "message"), [
    ('{"text": "fine"}\n{"text": "fine"}\nnot json\n', "mine.jsonl:3: not JSON"),
    ('{"text": ""}\n', "mine.jsonl:1: \"text\" must be a non-empty string"),
    ('{"text": "hello", "label": "maybe"}\n', "mine.jsonl:1: label 'maybe' is not one of"),
])
def test_it_names_the_line_of_a_bad_input(tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "mine.jsonl"
    src.write_text(content, encoding="utf-8")
    code, stdout, err = run("moderation", "score", str(src), "--classifier", "use3")
    assert code != 0 and message in err and stdout == ""
