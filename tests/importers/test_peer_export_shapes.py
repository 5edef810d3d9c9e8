"""Shapes met in the peers' own export files (Remark42's and Isso's test data), rebuilt
with our own text: what came through wrongly when those files were imported."""

from __future__ import annotations

from pathlib import Path

from import_builders import (
    DisqusPost,
    DisqusThread,
    WpComment,
    WpPost,
    write_disqus,
    write_isso,
    write_remark42,
    write_wxr,
)
from import_helpers import Rostra, by_text, comments_of, counts, thread_by_key


def test_remark42_html_without_markdown_keeps_bold_and_italics(
    rostra: Rostra, tmp_path: Path
) -> None:
    # Comments that Remark42 itself imported (from Disqus or WordPress) have only the
    # HTML `text`, no `orig`: their <b> and <i> are what readers saw as bold and italics.
    url = "https://blog.example/posts/one/"
    path = write_remark42(tmp_path / "backup", [{
        "id": "d1", "pid": "", "text": "<p>An <b>old</b> and <i>slanted</i> note</p>",
        "user": {"name": "Ana", "id": "disqus_0a1b", "picture": "", "admin": False},
        "locator": {"site": "remark", "url": url}, "score": 0, "vote": 0,
        "time": "2015-01-01T10:00:00.123456789-05:00", "imported": True,
    }])
    rostra.ok("import", "remark42", path, "--site", "blog")
    row = comments_of(rostra.db, thread_by_key(rostra.db, "blog", "/posts/one").id)[0]
    assert row.html == "<p>An <strong>old</strong> and <em>slanted</em> note</p>"


def test_disqus_message_padded_around_its_cdata_is_kept_without_the_padding(
    rostra: Rostra, tmp_path: Path
) -> None:
    path = write_disqus(
        tmp_path / "disqus.xml",
        [DisqusThread("100", "https://news.example/a/")],
        [DisqusPost("1", "100", "<p>Padded message</p>", padding="\n            ")],
    )
    rostra.ok("import", "disqus", path, "--site", "news")
    row = comments_of(rostra.db, thread_by_key(rostra.db, "news", "/a").id)[0]
    assert (row.text, row.html) == ("<p>Padded message</p>", "<p>Padded message</p>")


def test_wxr_content_padded_around_its_cdata_is_kept_without_the_padding(
    rostra: Rostra, tmp_path: Path
) -> None:
    path = write_wxr(tmp_path / "wxr.xml", [WpPost(
        18, "Padded", "https://news.example/2014/padded/",
        comments=[WpComment(2, "First line\nsecond line", padding="\n                    ")],
    )])
    rostra.ok("import", "wordpress", path, "--site", "news")
    rows = comments_of(rostra.db, thread_by_key(rostra.db, "news", "/2014/padded").id)
    row = by_text(rows, "First line")
    assert row.text == "First line\nsecond line"
    assert row.html == "<p>First line<br>\nsecond line</p>"


def test_a_disqus_export_given_as_wordpress_is_named_for_what_it_is(
    rostra: Rostra, tmp_path: Path
) -> None:
    # It has no <item> or <comment> at all: it was reported as "the file is empty".
    path = write_disqus(
        tmp_path / "disqus.xml",
        [DisqusThread("100", "https://news.example/a/")],
        [DisqusPost("1", "100", "<p>A post</p>")],
    )
    result = rostra.run("import", "wordpress", path, "--site", "news")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "line 2, element <disqus>: not a WordPress export (WXR): the root element is " \
        "not <rss>" in result.output


def test_a_damaged_isso_database_is_refused_with_a_message(
    rostra: Rostra, tmp_path: Path
) -> None:
    # Its schema (first page) reads, its comments' pages do not: a copy of a live
    # database cut or overwritten in the middle.
    path = write_isso(tmp_path / "isso.db", [(1, "/post/", "Post")], [
        {"tid": 1, "id": n, "created": 1_600_000_000.0 + n, "text": f"comment {n} " + "x" * 500}
        for n in range(1, 401)
    ])
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 16384] = b"\xff" * 16384
    path.write_bytes(bytes(data))
    result = rostra.run("import", "isso", path, "--site", "blog")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "the Isso database is damaged" in result.output
    assert counts(rostra.db)["comments"] == 0


def test_wxr_comment_with_a_pre_block_still_gets_its_paragraphs(
    rostra: Rostra, tmp_path: Path
) -> None:
    # WordPress's theme unit test data has comments with <pre>; "<pre" was taken for a
    # "<p" the comment wrote itself, and its blank lines no longer parted paragraphs.
    content = "Try this:\n<pre>x = 1</pre>\n\nIt prints nothing."
    path = write_wxr(tmp_path / "wxr.xml", [WpPost(
        18, "Code", "https://news.example/code/", comments=[WpComment(2, content)],
    )])
    rostra.ok("import", "wordpress", path, "--site", "news")
    row = comments_of(rostra.db, thread_by_key(rostra.db, "news", "/code").id)[0]
    assert "<pre>x = 1</pre>" in row.html
    assert row.html.endswith("<p>It prints nothing.</p>")
