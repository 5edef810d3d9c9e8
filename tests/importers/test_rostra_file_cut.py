"""A Rostra export cut short at the end of a line (a copy that stopped, a disk that
filled) is refused with the line it ends on, and nothing of it is written: it is no
smaller site (docs/import-export.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, counts


def _export(rostra: Rostra, tmp_path: Path) -> list[str]:
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "w.xml", [
        WpPost(n, f"P{n}", f"https://news.example/p{n}/",
               comments=[WpComment(n * 100 + c, f"comment {c}", parent=n * 100 + c - 1
                                   if c % 2 else None) for c in range(0, 12)])
        for n in range(1, 6)]), "--site", "news")
    path = tmp_path / "all.jsonl"
    rostra.ok("export", path)
    return path.read_text().splitlines(keepends=True)


def _said(rostra: Rostra, path: Path) -> str:
    before = counts(rostra.db)
    result = rostra.run("import", "rostra", path, "--batch-size", "7")
    said = " ".join(result.output.split())
    assert result.exit_code == 1, said
    assert "Traceback" not in said
    assert "Nothing was imported: the database is as it was." in said
    assert counts(rostra.db) == before
    return said


@pytest.mark.parametrize("kept", [0.3, 0.9])
def test_a_file_cut_at_the_end_of_a_line_is_refused(
    backend: tuple[Rostra, Rostra], tmp_path: Path, kept: float
) -> None:
    source, target = backend
    lines = _export(source, tmp_path)
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:int(len(lines) * kept)]))
    said = _said(target, cut)
    assert f"line {int(len(lines) * kept)}: the file ends without its end line" in said
    assert "cut short" in said


def test_a_missing_or_added_line_is_refused(rostra: Rostra, second_rostra: Rostra,
                                            tmp_path: Path) -> None:
    lines = _export(rostra, tmp_path)
    path = tmp_path / "gap.jsonl"
    path.write_text("".join(lines[:-2] + lines[-1:]))  # the last record is gone
    assert f"line {len(lines) - 1}: the end line counts" in _said(second_rostra, path)
    path.write_text("".join(lines + [lines[3]]))
    assert "a line after the end line" in _said(second_rostra, path)


def test_a_file_of_an_older_version_needs_no_end_line(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    lines = _export(rostra, tmp_path)
    header = json.loads(lines[0])
    header["version"] = 5
    body = [line for line in lines[1:] if json.loads(line)["type"] != "end"]
    path = tmp_path / "v5.jsonl"
    path.write_text(json.dumps(header) + "\n" + "".join(body))
    second_rostra.ok("import", "rostra", path)
    assert counts(second_rostra.db)["comments"] == counts(rostra.db)["comments"] == 60


def test_an_export_shows_its_progress(rostra: Rostra, tmp_path: Path) -> None:
    _export(rostra, tmp_path)
    said = " ".join(rostra.ok("export", tmp_path / "again.jsonl").output.split())
    records = len((tmp_path / "again.jsonl").read_text().splitlines()) - 2
    assert f"export again.jsonl {records} records" in said, said
    assert "records/s" in said
