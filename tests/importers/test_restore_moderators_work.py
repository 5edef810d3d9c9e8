"""A restore keeps what moderators did to a site beyond comment states: the comments
they featured or pinned, the texts their edits replaced, and bans (docs/import-export.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, comments_of, counts, thread_by_key
from sqlalchemy import Table, insert, select

from rostra.moderation.identity import email_key
from rostra.store import queries
from rostra.store.db import Database
from rostra.store.moderation_tables import bans
from rostra.store.staff_tables import comment_pins, comment_revisions
from rostra.store.tables import comments, meta

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


def _salt(db: Database) -> str:
    with db.write() as conn:  # as the server makes it on first use
        salt = conn.scalar(select(meta.c.value).where(meta.c.key == "ip_salt"))
        if salt is None:
            salt = "salt-of-" + db.url[-12:]
            conn.execute(insert(meta).values(key="ip_salt", value=salt))
    return str(salt)


def test_it_keeps_bans_and_keys_bans_on_an_address_again(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    """Bans by account, voter and address carry over as they are; a ban on an email
    address is a keyed hash of it, keyed with a salt of the database: the file names the
    address where the database knows it, and the restore keys it with its own salt."""
    source, target = backend
    rows = _site(source, tmp_path)
    with source.db.write() as conn:
        conn.execute(comments.update().where(comments.c.id == rows[2].id)
                     .values(author_email="Troll@Example.org"))
    salt = _salt(source.db)
    ban = {"site_id": "news", "shadow": False, "reason": None, "label": None,
           "created_by": "mod", "created_at": AT, "expires_at": None, "lifted_at": None,
           "lifted_by": None}
    with source.db.write() as conn:
        conn.execute(insert(bans), [
            {**ban, "kind": "voter", "value": "v:abc", "reason": "troll", "label": "Ben"},
            {**ban, "kind": "account", "value": "a:41", "shadow": True,
             "expires_at": datetime(2030, 1, 1, tzinfo=UTC)},
            {**ban, "kind": "email", "value": email_key("troll@example.org", salt)},
            {**ban, "kind": "ip", "value": "i:20240304.00ff", "lifted_at": AT,
             "lifted_by": "chief"}])
    _restored(source, target, tmp_path)
    restored = _rows(target.db, bans)
    assert len(restored) == 4
    assert [r[1:] for r in restored if r[2] != "email"] == [
        r[1:] for r in _rows(source.db, bans) if r[2] != "email"]
    email_ban = next(r for r in restored if r[2] == "email")
    assert email_ban[3] == email_key("troll@example.org", _salt(target.db))
    # The restored database exports the same file again.
    again = tmp_path / "again.jsonl"
    target.ok("export", again)
    assert again.read_text() == (tmp_path / "all.jsonl").read_text()
    # A ban made after the restore gets an id of its own.
    with target.db.write() as conn:
        conn.execute(insert(bans).values(**{**ban, "kind": "voter", "value": "v:new"}))
    assert [r[0] for r in _rows(target.db, bans)] == [1, 2, 3, 4, 5]


def test_it_keeps_a_notifiers_complaint(backend: tuple[Rostra, Rostra], tmp_path: Path) -> None:
    """A notice decided "no action" and the notifier's complaint against it (docs/dsa.md):
    a restored site still knows the complaint was made and how it was decided, so it is
    neither lost from the transparency figures nor open to a second one."""
    from rostra.store.dsa_tables import dsa_notices

    source, target = backend
    rows = _site(source, tmp_path)
    with source.db.write() as conn:
        conn.execute(insert(dsa_notices).values(
            site_id="news", comment_id=rows[0].id, ground="hate", ground_label="Hate speech",
            explanation="It calls for driving a group out of town.", notifier_name="Ben",
            notifier_email="ben@example.org", good_faith=True, reporter="v:ben",
            created_at=AT, deadline_at=AT, status="decided", outcome="no_action",
            decided_by="editor", decided_at=AT, decision_reason="Sharp, but lawful",
            complaint_text="Please look again.", complained_at=AT,
            complaint_outcome="upheld", complaint_decided_by="chief",
            complaint_decided_at=AT, complaint_reason="Still lawful"))
    _restored(source, target, tmp_path)
    assert _rows(target.db, dsa_notices) == _rows(source.db, dsa_notices)
    with target.db.read() as conn:
        complaint = conn.execute(select(dsa_notices.c.complaint_text,
                                        dsa_notices.c.complaint_outcome)).one()
    assert tuple(complaint) == ("Please look again.", "upheld")
