"""Imports that meet what is already there: a Rostra export restored as another site or
over a database that is not empty, origins added on a second run, an address one system
left unconfirmed and another confirmed, and replies whose parents form a loop."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from import_builders import WpComment, WpPost, write_isso, write_wxr
from import_helpers import Rostra, comments_of, counts, subscriptions_of, thread_by_key
from sqlalchemy import insert, select

from rostra.store.notify_tables import notify_addresses
from rostra.store.tables import sites

STORY = "https://news.example/2024/03/story/"


def _story(tmp_path: Path, *comments: WpComment) -> Path:
    return write_wxr(tmp_path / "story.xml", [
        WpPost(12, "Story", STORY, comments=list(comments) or [WpComment(1, "First")])])


def test_it_makes_replies_in_a_loop_of_parents_top_level(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    rostra, _ = backend
    result = rostra.ok("import", "wordpress", _story(
        tmp_path, WpComment(1, "Root"), WpComment(2, "Loop A", parent=3),
        WpComment(3, "Loop B", parent=2), WpComment(4, "Reply to root", parent=1)),
        "--site", "news")
    assert "2 replies in a loop of parents became top-level" in " ".join(result.output.split())
    rows = {r.text: r for r in comments_of(rostra.db, thread_by_key(rostra.db, "news",
                                                                     "/2024/03/story").id)}
    for text in ("Root", "Loop A", "Loop B"):
        assert (rows[text].parent_id, rows[text].root_id, rows[text].depth) == \
            (None, rows[text].id, 0)
    reply = rows["Reply to root"]
    assert (reply.parent_id, reply.root_id, reply.depth) == (rows["Root"].id, rows["Root"].id, 1)


def test_it_restores_an_export_as_another_site_once(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    rostra.ok("import", "wordpress", _story(tmp_path, WpComment(1, "First"),
                                            WpComment(2, "Reply", parent=1)),
              "--site", "news", "--origin", "https://news.example")
    export = tmp_path / "news.jsonl"
    rostra.ok("export", export)
    second_rostra.ok("import", "rostra", export, "--site", "gazette")
    thread = thread_by_key(second_rostra.db, "gazette", "/2024/03/story")
    rows = comments_of(second_rostra.db, thread.id)
    assert [(r.text, r.parent_id) for r in rows] == [("First", None), ("Reply", rows[0].id)]
    with second_rostra.db.read() as conn:
        assert list(conn.scalars(select(sites.c.id))) == ["gazette"]
    before = counts(second_rostra.db)
    # The same file again, now allowing a second origin: only the origin is new.
    second_rostra.ok("import", "rostra", export, "--site", "gazette",
                     "--origin", "https://mirror.example")
    assert counts(second_rostra.db) | {"import_runs": 0} == before | {"import_runs": 0}
    with second_rostra.db.read() as conn:
        assert conn.scalar(select(sites.c.origins).where(sites.c.id == "gazette")) == [
            "https://mirror.example", "https://news.example"]


def test_it_refuses_to_restore_a_thread_whose_key_it_has_under_another_id(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "both.xml", [
        WpPost(40, "Other", "https://news.example/other/", comments=[WpComment(9, "Other")]),
        WpPost(12, "Story", STORY, comments=[WpComment(1, "First")])]), "--site", "news")
    export = tmp_path / "news.jsonl"
    rostra.ok("export", export)
    in_file = thread_by_key(rostra.db, "news", "/2024/03/story").id
    # The target has the story already, imported from WordPress on its own, as thread 1.
    second_rostra.ok("import", "wordpress", _story(tmp_path, WpComment(7, "Elsewhere")),
                     "--site", "news")
    story = thread_by_key(second_rostra.db, "news", "/2024/03/story")
    assert story.id != in_file
    before = counts(second_rostra.db)
    result = second_rostra.run("import", "rostra", export)
    assert result.exit_code == 1
    # The file's thread of that id is another page: the first conflict met stops it.
    assert story.id == 1 and in_file == 2
    assert ("thread 1 exists here with site_id 'news', key '/2024/03/story', the file has "
            "another: import a Rostra export into an empty database") in \
        " ".join(result.output.split())
    assert counts(second_rostra.db) == before


def test_it_refuses_to_restore_an_address_it_has_under_another_id(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    rostra.ok("import", "isso", write_isso(tmp_path / "isso.db", [(1, "/post/a", "A")], [
        {"tid": 1, "id": 1, "created": 1_600_000_000.0, "text": "Tell me",
         "email": "bo@example.com", "notification": 1},
        {"tid": 1, "id": 2, "created": 1_600_000_100.0, "text": "Me too",
         "email": "ana@example.com", "notification": 1}]), "--site", "blog")
    export = tmp_path / "blog.jsonl"
    rostra.ok("export", export)
    # The target knows the address already, under an id the file does not use.
    with second_rostra.db.write() as conn:
        conn.execute(insert(notify_addresses).values(
            id=7, email="ana@example.com", created_at=datetime(2024, 1, 1, tzinfo=UTC)))
    before = counts(second_rostra.db)
    result = second_rostra.run("import", "rostra", export)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert ("address 'ana@example.com' exists with id 7, the file has it as 2: import a "
            "Rostra export into an empty database") in message
    assert counts(second_rostra.db) == before


def test_a_confirmation_from_one_system_confirms_its_own_subscriptions_only(
    rostra: Rostra, tmp_path: Path
) -> None:
    # Consent is per subscription: Isso's confirmed one does not switch on the one
    # wpDiscuz had waiting for confirmation (the address counts as confirmed, though).
    dump = tmp_path / "subs.sql"
    dump.write_text(
        "INSERT INTO `wp_wc_comments_subscription` VALUES "
        "(1,'bo@example.com',12,12,'post','k1','0','2024-03-01 10:00:00','');\n",
        encoding="utf-8")
    rostra.ok("import", "wordpress", _story(tmp_path), "--site", "news", "--wpdiscuz-sql", dump)
    assert subscriptions_of(rostra.db, "news") == {
        ("bo@example.com", "/2024/03/story", "thread", False, ())}
    rostra.ok("import", "isso", write_isso(tmp_path / "isso.db", [(1, "/2024/03/story", "S")], [
        {"tid": 1, "id": 1, "created": 1_600_000_000.0, "text": "Tell me about replies",
         "email": "bo@example.com", "notification": 1}]), "--site", "news")
    subscriptions = subscriptions_of(rostra.db, "news")
    assert {(kind, confirmed) for _, _, kind, confirmed, _ in subscriptions} == {
        ("thread", False), ("replies", True)}
    with rostra.db.read() as conn:
        assert conn.scalar(select(notify_addresses.c.confirmed_at)
                           .where(notify_addresses.c.email == "bo@example.com")) is not None


def test_it_refuses_a_restore_whose_comment_ids_are_other_comments_here(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    # The same page, but comment 2 is a reply in the file and a comment of its own here:
    # passing over it as "already imported" would hang the file's replies on the wrong one.
    rostra.ok("import", "wordpress", _story(tmp_path, WpComment(1, "First"),
                                             WpComment(2, "A reply", parent=1)),
              "--site", "news")
    export = tmp_path / "news.jsonl"
    rostra.ok("export", export)
    (tmp_path / "here").mkdir()
    second_rostra.ok("import", "wordpress", _story(tmp_path / "here", WpComment(1, "First"),
                                                    WpComment(2, "Not a reply")),
                     "--site", "news")
    before = counts(second_rostra.db)
    with second_rostra.db.read() as conn:
        from rostra.store.tables import comments
        kept = conn.execute(select(comments.c.id, comments.c.parent_id, comments.c.text)
                            .order_by(comments.c.id)).all()
    result = second_rostra.run("import", "rostra", export)
    assert result.exit_code == 1
    assert ("comment 2 exists here with thread_id 1, parent_id None, the file has another: "
            "import a Rostra export into an empty database") in " ".join(result.output.split())
    assert counts(second_rostra.db) == before
    with second_rostra.db.read() as conn:
        assert conn.execute(select(comments.c.id, comments.c.parent_id, comments.c.text)
                            .order_by(comments.c.id)).all() == kept
    # The same file again is still welcome: the rows it finds are its own.
    rostra.ok("import", "rostra", export)
