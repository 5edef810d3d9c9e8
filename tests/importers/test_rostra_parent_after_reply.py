"""A reply whose parent has a higher id than its own (an import from another system that
listed the reply before its parent) is restored under its parent, whatever batches the
two fall in; a file where such a parent never comes is refused with the reply's line
(docs/import-export.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, refused_restore
from sqlalchemy import select

from rostra.store.tables import comments


def _replies_before_parents(rostra: Rostra, tmp_path: Path) -> Path:
    """A WordPress file listing a reply, then its parent, then the parent's own parent:
    the restored ids count up the other way round (reply 1, parent 3, grandparent 4; and
    reply 2 to reply 1, whose parent is lower but waits for its own)."""
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "w.xml", [
        WpPost(1, "P1", "https://news.example/p1/", comments=[
            WpComment(30, "a reply to a reply", parent=20),
            WpComment(35, "a reply to a reply that waits", parent=30),
            WpComment(20, "a reply", parent=10),
            WpComment(10, "the first comment"),
            WpComment(40, "a reply listed after its parent", parent=10),
        ])]), "--site", "news")
    path = tmp_path / "all.jsonl"
    rostra.ok("export", path)
    return path


def _tree(rostra: Rostra) -> dict[str, tuple[str | None, str | None, int]]:
    """text -> (parent's text, root's text, depth)."""
    with rostra.db.read() as conn:
        rows = {r.id: r for r in conn.execute(select(comments))}
    return {r.text: (rows[r.parent_id].text if r.parent_id else None,
                     rows[r.root_id].text if r.root_id else None, r.depth)
            for r in rows.values()}


@pytest.mark.parametrize("batch_size", ["1", "2", "5000"])
def test_it_restores_a_reply_whose_parent_comes_after_it(
    backend: tuple[Rostra, Rostra], tmp_path: Path, batch_size: str,
) -> None:
    source, target = backend
    path = _replies_before_parents(source, tmp_path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    ids = {line["text"]: line["id"] for line in lines if line["type"] == "comment"}
    parents = {line["id"]: line["parent_id"] for line in lines if line["type"] == "comment"}
    assert parents[ids["a reply to a reply"]] > ids["a reply to a reply"]  # the case itself

    result = target.run("import", "rostra", path, "--batch-size", batch_size)
    said = " ".join(result.output.split())
    assert result.exit_code == 0, said
    assert _tree(target) == _tree(source)
    again = tmp_path / "again.jsonl"
    target.ok("export", again)
    assert again.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("batch_size", ["1", "5000"])
def test_it_refuses_a_reply_whose_later_parent_never_comes(
    backend: tuple[Rostra, Rostra], tmp_path: Path, batch_size: str,
) -> None:
    source, target = backend
    lines = [json.loads(line) for line in
             _replies_before_parents(source, tmp_path).read_text().splitlines()]
    reply = next(i for i, line in enumerate(lines) if line.get("text") == "a reply to a reply")
    parent = next(i for i, line in enumerate(lines) if line.get("id") == lines[reply]["parent_id"])
    # The parent's line is gone; so is its own reply's (which named it), and every line
    # that named either.
    gone = {lines[parent]["id"]}
    lines = [line for i, line in enumerate(lines) if i != parent]
    lines = [line for line in lines
             if not (line["type"] == "comment" and line["id"] != lines[reply]["id"]
                     and line.get("parent_id") in gone)]
    lines = [line for line in lines if line["type"] != "import_item"]
    said = refused_restore(target, tmp_path / "tampered.jsonl", lines,
                           "--batch-size", batch_size)
    assert f"line {reply + 1}, element <comment>" in said, said
    assert f"parent_id names comment {lines[reply]['parent_id']}" in said, said
