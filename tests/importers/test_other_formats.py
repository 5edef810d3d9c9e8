"""Disqus XML, Isso databases and Remark42 backups."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from import_builders import (
    DisqusPost,
    DisqusThread,
    remark_comment,
    write_disqus,
    write_isso,
    write_remark42,
)
from import_helpers import (
    Rostra,
    aliases_of,
    by_text,
    comments_of,
    subscriptions_of,
    thread_by_key,
    votes_of,
)


def test_it_imports_disqus_threads_posts_and_flags(rostra: Rostra, tmp_path: Path) -> None:
    path = write_disqus(
        tmp_path / "disqus.xml",
        [DisqusThread("100", "https://news.example/a/?utm_source=x", identifier="post-1"),
         DisqusThread("101", "https://news.example/b/", closed=True),
         DisqusThread("102", "https://news.example/a/", identifier="dup"),
         DisqusThread("103", "https://news.example/gone/", deleted=True)],
        [DisqusPost("1", "100", "<p>First <strong>bold</strong><script>x()</script></p>"),
         DisqusPost("2", "100", "<p>Reply ✓</p>", parent="1", name=None, email=None),
         DisqusPost("3", "100", "<p>Deleted</p>", deleted=True),
         DisqusPost("4", "100", "<p>Reply to deleted</p>", parent="3"),
         DisqusPost("5", "101", "<p>Spam</p>", spam=True),
         DisqusPost("6", "102", "<p>Same page, other thread id</p>"),
         DisqusPost("7", "103", "<p>On a deleted thread</p>"),
         DisqusPost("8", "100", "<p>Parent missing</p>", parent="404", ip=None)],
    )
    result = rostra.ok("import", "disqus", path, "--site", "news")
    thread = thread_by_key(rostra.db, "news", "/a")
    assert aliases_of(rostra.db, thread.id) == {"post-1", "dup"}
    rows = comments_of(rostra.db, thread.id)
    first, reply = by_text(rows, "First"), by_text(rows, "Reply ✓")
    assert reply.parent_id == first.id and reply.author_name is None
    doc = lxml.html.fragment_fromstring(first.html, create_parent="div")
    assert doc.xpath("//script") == [] and doc.xpath("//strong")[0].text == "bold"
    deleted = by_text(rows, "<p>Deleted")
    assert deleted.state == "deleted" and deleted.reply_count == 1
    assert by_text(rows, "Parent missing").parent_id is None
    assert by_text(rows, "Same page").thread_id == thread.id
    assert thread.comment_count == 5
    closed = thread_by_key(rostra.db, "news", "/b")
    assert closed.closed and comments_of(rostra.db, closed.id)[0].state == "spam"
    assert "deleted thread" in result.output


def test_it_imports_an_isso_database(rostra: Rostra, tmp_path: Path) -> None:
    path = write_isso(
        tmp_path / "isso.db",
        [(1, "/2021/hello/", "Hello"), (2, "/empty/", "No comments")],
        [{"tid": 1, "id": 1, "created": 1_600_000_000.5, "text": "*Markdown* <em>raw</em>",
          "author": "Ana", "email": "ana@example.com", "likes": 3, "dislikes": 1,
          "notification": 1},
         {"tid": 1, "id": 2, "parent": 1, "created": 1_600_000_100.0, "mode": 2,
          "text": "Pending reply"},
         {"tid": 1, "id": 3, "created": 1_600_000_200.0, "mode": 4, "text": "",
          "modified": 1_600_000_300.0},
         {"tid": 1, "id": 4, "parent": 3, "created": 1_600_000_400.0, "text": "Ünïcødé reply"}],
    )
    result = rostra.ok("import", "isso", path, "--site", "blog")
    thread = thread_by_key(rostra.db, "blog", "/2021/hello")
    rows = comments_of(rostra.db, thread.id)
    first = by_text(rows, "Markdown")
    doc = lxml.html.fragment_fromstring(first.html, create_parent="div")
    assert [e.text for e in doc.xpath("//em")] == ["Markdown"]  # raw HTML stays text
    assert (first.upvotes, first.downvotes, first.score) == (3, 1, 2)
    assert by_text(rows, "Pending").state == "pending"
    tomb = [r for r in rows if r.state == "deleted"][0]
    assert tomb.edited_at is not None and tomb.reply_count == 1
    assert by_text(rows, "Ünïcødé").parent_id == tomb.id
    assert first.reply_count == 0  # its only reply is pending
    assert (thread.comment_count, thread.top_level_count) == (2, 1)
    thread_by_key(rostra.db, "blog", "/empty")
    # Isso's "notification" is a confirmed subscription to replies to that comment.
    assert subscriptions_of(rostra.db, "blog") == {
        ("ana@example.com", "/2021/hello", "replies", True, (first.id,))}
    assert "subscriptions created" in result.output


def test_it_imports_a_gzipped_remark42_backup(rostra: Rostra, tmp_path: Path) -> None:
    url = "https://blog.example/posts/one/"
    path = write_remark42(tmp_path / "backup.gz", [
        remark_comment("c1", url, "Hello **world**", votes={"u2": True, "u3": False,
                                                              "u4": True}),
        remark_comment("c2", url, "Answer", pid="c1", user="u2"),
        remark_comment("c3", url, "", delete=True),
        remark_comment("c4", "https://blog.example/posts/two/", "Другая страница"),
    ], gz=True)
    rostra.ok("import", "remark42", path, "--site", "blog")
    thread = thread_by_key(rostra.db, "blog", "/posts/one")
    rows = comments_of(rostra.db, thread.id)
    first = by_text(rows, "Hello")
    assert (first.upvotes, first.downvotes) == (2, 1)
    assert votes_of(rostra.db, first.id) == {"x:r42:u2": 1, "x:r42:u3": -1, "x:r42:u4": 1}
    assert by_text(rows, "Answer").parent_id == first.id
    assert [r.state for r in rows if r.text == ""] == ["deleted"]
    assert thread_by_key(rostra.db, "blog", "/posts/two").comment_count == 1
