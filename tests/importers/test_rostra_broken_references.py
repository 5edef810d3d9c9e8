"""A Rostra file whose records name a site, thread or comment it does not hold (edited by
hand, or tampered with) is refused with the line, and nothing of it is written
(docs/import-export.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, refused_restore

Lines = list[dict[str, Any]]


def _exported(rostra: Rostra, tmp_path: Path) -> Lines:
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "w.xml", [
        WpPost(n, f"P{n}", f"https://news.example/p{n}/", comments=[
            WpComment(n * 10 + c, f"comment {c}", parent=n * 10 + c - 1 if c else None)
            for c in range(4)]) for n in (1, 2)]), "--site", "news")
    path = tmp_path / "all.jsonl"
    rostra.ok("export", path)
    return [json.loads(line) for line in path.read_text().splitlines()]


def _vote_on_a_missing_comment(lines: Lines) -> tuple[Lines, int]:
    last = max(line["id"] for line in lines if line["type"] == "comment")
    vote = {"type": "vote", "comment_id": last + 100, "voter": "v:x", "value": 1,
            "ip_hash": None, "created_at": "2024-03-01T10:00:00Z"}
    at = next(i for i, line in enumerate(lines) if line["type"] == "address"
              or line["type"] == "end")
    return lines[:at] + [vote] + lines[at:], at


def _reply_to_a_missing_parent(lines: Lines) -> tuple[Lines, int]:
    comments = [i for i, line in enumerate(lines) if line["type"] == "comment"]
    parent = comments[1]  # a reply itself, with a reply of its own after it
    reply = next(i for i in comments if lines[i]["parent_id"] == lines[parent]["id"])
    return lines[:parent] + lines[parent + 1:], reply - 1


def _flag_on_a_missing_comment(lines: Lines) -> tuple[Lines, int]:
    flag = {"type": "flag", "comment_id": 999_999, "reader": "v:x", "reason": "abuse",
            "note": None, "ip_hash": None, "created_at": "2024-03-01T10:00:00Z",
            "resolved_at": None}
    return lines[:-1] + [flag] + lines[-1:], len(lines) - 1


def _thread_of_a_missing_site(lines: Lines) -> tuple[Lines, int]:
    at = next(i for i, line in enumerate(lines) if line["type"] == "thread")
    lines[at] = {**lines[at], "site_id": "elsewhere"}
    return lines, at


@pytest.mark.parametrize("tamper", [_vote_on_a_missing_comment, _reply_to_a_missing_parent,
                                    _flag_on_a_missing_comment, _thread_of_a_missing_site])
@pytest.mark.parametrize("batch_size", ["1", "5000"])
def test_a_record_naming_what_the_file_lacks_is_refused_with_its_line(
    backend: tuple[Rostra, Rostra], tmp_path: Path,
    tamper: Callable[[Lines], tuple[Lines, int]], batch_size: str,
) -> None:
    source, target = backend
    lines, at = tamper(_exported(source, tmp_path))
    said = refused_restore(target, tmp_path / "tampered.jsonl", lines,
                           "--batch-size", batch_size)
    assert f"line {at + 1}, element <{lines[at]['type']}>" in said, said
    assert "the file does not have" in said
