"""A restore keeps what moderators did to a site beyond comment states: the comments
they featured or pinned, and the texts their edits replaced (docs/import-export.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, comments_of, counts, thread_by_key
from sqlalchemy import Table, insert, select

from rostra.store import queries
from rostra.store.db import Database
from rostra.store.staff_tables import comment_pins, comment_revisions

AT = datetime(2024, 3, 6, 9, 30, 0, 123456, tzinfo=UTC)


def _site(rostra: Rostra, tmp_path: Path) -> list[Any]:
    """Site "news" with one thread of five comments (a reply among them), and site
    "other" with one comment; the comments of "news"."""
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "news.xml", [
        WpPost(1, "A", "https://news.example/a/", comments=[
            WpComment(1, "first"), WpComment(2, "a reply", parent=1), WpComment(3, "third"),
            WpComment(4, "fourth"), WpComment(5, "fifth")])]), "--site", "news")
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "other.xml", [
        WpPost(1, "B", "https://other.example/b/", comments=[WpComment(1, "elsewhere")])]),
        "--site", "other")
    return comments_of(rostra.db, thread_by_key(rostra.db, "news", "/a").id)


def _rows(db: Database, table: Table) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return sorted(tuple(r) for r in conn.execute(select(table)))


def _restored(source: Rostra, target: Rostra, tmp_path: Path, *args: str) -> None:
    path = tmp_path / "all.jsonl"
    source.ok("export", *args, path)
    target.ok("import", "rostra", path)


def test_it_keeps_featured_and_pinned_comments(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    rows = _site(source, tmp_path)
    with source.db.write() as conn:
        conn.execute(insert(comment_pins), [
            {"comment_id": rows[0].id, "site_id": "news", "kind": "pinned",
             "created_by": "editor", "created_at": AT},
            {"comment_id": rows[1].id, "site_id": "news", "kind": "featured",
             "created_by": "chief", "created_at": AT}])
    _restored(source, target, tmp_path)
    assert _rows(target.db, comment_pins) == _rows(source.db, comment_pins)
    with target.db.read() as conn:  # what the thread's page marks
        shown = queries.highlights_in_thread(conn, rows[0].thread_id)
    assert shown == {rows[0].id: "pinned", rows[1].id: "featured"}
    # Restoring the file again creates nothing twice.
    before = counts(target.db)
    _restored(source, target, tmp_path)
    assert len(_rows(target.db, comment_pins)) == 2
    assert {k: v for k, v in counts(target.db).items() if k != "import_runs"} == {
        k: v for k, v in before.items() if k != "import_runs"}


def test_a_site_export_holds_only_its_own_pins(rostra: Rostra, second_rostra: Rostra,
                                                tmp_path: Path) -> None:
    rows = _site(rostra, tmp_path)
    other = comments_of(rostra.db, thread_by_key(rostra.db, "other", "/b").id)[0]
    with rostra.db.write() as conn:
        conn.execute(insert(comment_pins), [
            {"comment_id": rows[0].id, "site_id": "news", "kind": "pinned",
             "created_by": "editor", "created_at": AT},
            {"comment_id": other.id, "site_id": "other", "kind": "featured",
             "created_by": "editor", "created_at": AT}])
    _restored(rostra, second_rostra, tmp_path, "--site", "other")
    assert [(r[0], r[2]) for r in _rows(second_rostra.db, comment_pins)] == [
        (other.id, "featured")]


def test_it_keeps_the_texts_staff_edits_replaced(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    rows = _site(source, tmp_path)
    with source.db.write() as conn:
        conn.execute(insert(comment_revisions), [
            {"comment_id": rows[0].id, "text": "the *first* words", "html": "<p>x</p>",
             "edited_by": "editor", "created_at": AT},
            {"comment_id": rows[0].id, "text": "the second words", "html": "<p>y</p>",
             "edited_by": "chief", "created_at": AT}])
    _restored(source, target, tmp_path, "--site", "news")
    assert _rows(target.db, comment_revisions) == _rows(source.db, comment_revisions)
    # A staff edit after the restore keeps its revision under an id of its own.
    with target.db.write() as conn:
        conn.execute(insert(comment_revisions).values(
            comment_id=rows[1].id, text="a reply", html="<p>a reply</p>", edited_by="editor",
            created_at=AT))
    assert [r[0] for r in _rows(target.db, comment_revisions)] == [1, 2, 3]
