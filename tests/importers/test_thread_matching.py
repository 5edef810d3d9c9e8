"""Which thread an item of an export lands on: its own key first, then only aliases that
name no other item's thread. Two WordPress posts can share a <guid> (WordPress's own theme
unit test data has them: a post duplicated from another keeps its guid)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, aliases_of, comments_of, counts, thread_by_key
from sqlalchemy import insert, select

from rostra.store import queries
from rostra.store.tables import sites, threads

SHARED = "https://news.example/shared-guid/"


def _texts(rostra: Rostra, site: str, key: str) -> list[str]:
    return [r.text for r in comments_of(rostra.db, thread_by_key(rostra.db, site, key).id)]


def _thread_of(rostra: Rostra, site: str, key: str) -> int | None:
    with rostra.db.read() as conn:
        found = queries.find_thread(conn, site, key)
    return None if found is None else int(found.id)


def test_a_guid_naming_another_post_leads_to_that_post_only(
    rostra: Rostra, tmp_path: Path
) -> None:
    # As in WordPress's theme unit test data: post 1158 was made from post 568 and kept
    # its guid (?p=568); 568 comes first and has no comments.
    path = write_wxr(tmp_path / "x.xml", [
        WpPost(568, "Image linked", "https://news.example/image-linked/"),
        WpPost(1158, "Image", "https://news.example/image/",
               guid="https://news.example/?p=568", comments=[WpComment(1, "On the image")]),
    ])
    rostra.ok("import", "wordpress", path, "--site", "news")
    assert _texts(rostra, "news", "/image") == ["On the image"]
    assert _texts(rostra, "news", "/image-linked") == []
    linked = thread_by_key(rostra.db, "news", "/image-linked").id
    assert _thread_of(rostra, "news", "/?p=568") == linked
    assert "/?p=568" not in aliases_of(rostra.db, thread_by_key(rostra.db, "news", "/image").id)


def test_two_items_never_share_a_thread_through_a_guid(rostra: Rostra, tmp_path: Path) -> None:
    first = WpPost(10, "A", "https://news.example/a/", guid=SHARED,
                   comments=[WpComment(1, "On A")])
    second = WpPost(11, "B", "https://news.example/b/", guid=SHARED,
                    comments=[WpComment(2, "On B")])
    # One file.
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "both.xml", [first, second]),
              "--site", "news")
    assert _texts(rostra, "news", "/a") == ["On A"]
    assert _texts(rostra, "news", "/b") == ["On B"]
    assert _thread_of(rostra, "news", "/shared-guid") == thread_by_key(rostra.db, "news", "/a").id
    # A later export that adds B, when A (and its guid) came in with an earlier one.
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "a.xml", [first]), "--site", "blog")
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "both.xml", [first, second]),
              "--site", "blog")
    assert _texts(rostra, "blog", "/a") == ["On A"]
    assert _texts(rostra, "blog", "/b") == ["On B"]
    before = counts(rostra.db)
    rostra.ok("import", "wordpress", tmp_path / "both.xml", "--site", "blog")
    assert counts(rostra.db) | {"import_runs": 0} == before | {"import_runs": 0}


def test_an_alias_still_finds_a_thread_made_before_the_import(
    rostra: Rostra, tmp_path: Path
) -> None:
    # The blog had plain permalinks when readers first commented: the thread is /?p=12.
    now = datetime(2024, 1, 1, tzinfo=UTC)
    with rostra.db.write() as conn:
        conn.execute(insert(sites).values(id="news", name="news", origins=[], settings={},
                                          created_at=now))
        old = conn.execute(insert(threads).returning(threads.c.id).values(
            site_id="news", key="/?p=12", url=None, title=None, created_at=now,
            updated_at=now, comment_count=0, top_level_count=0, closed=False)).scalar_one()
    path = write_wxr(tmp_path / "x.xml", [
        WpPost(12, "Story", "https://news.example/2024/03/story/", guid=SHARED,
               comments=[WpComment(1, "Found by its shortlink")]),
        WpPost(13, "Other", "https://news.example/other/", guid=SHARED,
               comments=[WpComment(2, "Not on the story")]),
    ])
    rostra.ok("import", "wordpress", path, "--site", "news")
    assert [r.text for r in comments_of(rostra.db, old)] == ["Found by its shortlink"]
    assert _texts(rostra, "news", "/other") == ["Not on the story"]
    with rostra.db.read() as conn:
        assert conn.scalar(select(threads.c.key).where(threads.c.id == old)) == "/?p=12"


def test_an_export_imported_again_after_a_restore_as_another_site_adds_nothing(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    path = write_wxr(tmp_path / "x.xml", [
        WpPost(10, "A", "https://news.example/a/", guid=SHARED, comments=[WpComment(1, "On A")]),
        WpPost(11, "B", "https://news.example/b/", guid=SHARED, comments=[WpComment(2, "On B")]),
    ])
    rostra.ok("import", "wordpress", path, "--site", "news")
    export = tmp_path / "news.jsonl"
    rostra.ok("export", export)
    second_rostra.ok("import", "rostra", export, "--site", "gazette")
    before = counts(second_rostra.db)
    second_rostra.ok("import", "wordpress", path, "--site", "gazette")
    assert counts(second_rostra.db) | {"import_runs": 0} == before | {"import_runs": 0}
    assert _texts(second_rostra, "gazette", "/b") == ["On B"]
