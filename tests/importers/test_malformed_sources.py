"""Broken exports of every source stop the import with what is wrong and where, and leave
the database as it was; rows an import cannot place are skipped and counted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from import_builders import (
    WXR_HEAD,
    WXR_TAIL,
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
from import_helpers import Rostra, comments_of, counts, thread_by_key, votes_of

VOTES = "INSERT INTO `wp_wc_users_voted` VALUES "


def _wxr(tmp_path: Path) -> Path:
    return write_wxr(tmp_path / "export.xml", [
        WpPost(12, "Rents", "https://news.example/2024/03/rents/",
               comments=[WpComment(1, "Top comment")]),
    ])


def _refused(rostra: Rostra, *args: str | Path) -> str:
    """Run an import that must stop; returns its message, in one line."""
    before = counts(rostra.db)
    result = rostra.run("import", *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert counts(rostra.db) == before
    return " ".join(result.output.split())


@pytest.mark.parametrize(("dump", "message"), [
    ("-- dump\n" + "INSERT INTO `wp_wc_users_voted` (`id`,`user_id`;\n",
     ("line 2, element <wc_users_voted>: cannot read INSERT statement: the column list does "
      "not end")),
    ("\n\n" + VOTES + "(1,'7',1,1,0,12,1709287200),\n(2,'8',1,1,0,12,1709287200)\n",
     "line 3, element <wc_users_voted>: INSERT statement does not end"),
    (VOTES + "(1,'7',1);\n", "3 values for 7 columns"),
    (VOTES + "(1,'7',1,1,0,12,NOW());\n", "value expected, found 'NOW'"),
    (VOTES + "(1,'7',1,1,0,12,1709287200)(2,'8',1,1,0,12,1709287200);\n",
     "',' or ';' expected, found '('"),
    (VOTES + "(1,'7',1,1,0,12,1709287200;\n", "',' or ')' expected, found ';'"),
    (VOTES + "(1,\"7\",1,1,0,12,1709287200);\n", "unexpected text '\"7\",1,1,0,12,1709287200);'"),
    ("INSERT INTO `wp_wc_users_voted` (`id`) SELECT 1;\n", "VALUES expected"),
    (VOTES + "1;\n", "'(' expected, found '1'"),
], ids=["column-list", "unfinished", "too-few", "function", "no-comma", "no-paren",
        "double-quotes", "select", "no-row"])
def test_it_refuses_a_wpdiscuz_dump_it_cannot_read(
    rostra: Rostra, tmp_path: Path, dump: str, message: str
) -> None:
    path = tmp_path / "wpdiscuz.sql"
    path.write_text(dump, encoding="utf-8")
    output = _refused(rostra, "wordpress", _wxr(tmp_path), "--site", "news",
                      "--wpdiscuz-sql", path)
    assert message in output
    assert "database is as it was" in output


def test_it_reads_a_dump_string_that_spans_lines_and_ends_one_with_a_semicolon(
    rostra: Rostra, tmp_path: Path
) -> None:
    path = tmp_path / "wpdiscuz.sql"
    # Tables of other plugins are passed over, whatever their statements hold.
    path.write_text(
        "CREATE TABLE `wp_options` (\n  `option_id` int,\n  `value` text\n);\n"
        "INSERT INTO `wp_options` VALUES (1,'this is not (read;\n"
        + VOTES + "(1,'guest;\nsecond line',1,1,1,12,1709287200),"
        "(2,'it''s \\\\ me',1,-1,1,12,1709287300);\n",
        encoding="utf-8",
    )
    rostra.ok("import", "wordpress", _wxr(tmp_path), "--site", "news", "--wpdiscuz-sql", path)
    thread = thread_by_key(rostra.db, "news", "/2024/03/rents")
    top = comments_of(rostra.db, thread.id)[0]
    assert votes_of(rostra.db, top.id) == {"x:wp:guest;\nsecond line": 1, "x:wp:it's \\ me": -1}


def _disqus_thread(inner: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">\n' + inner + "\n</disqus>\n")


THREAD = ('<thread dsq:id="100"><id>p1</id><link>https://news.example/a/</link>'
          '<title>A</title><createdAt>2023-05-01T10:00:00Z</createdAt></thread>')


@pytest.mark.parametrize(("document", "message"), [
    ("", "line 0, column 0: malformed XML: no element found"),
    ('<?xml version="1.0"?>\n<rss><channel/></rss>\n',
     "not a Disqus export: the root element is not <disqus>"),
    (_disqus_thread("<thread><link>https://news.example/a/</link></thread>"),
     "a thread has no dsq:id"),
    (_disqus_thread(THREAD + '\n<post><message>x</message><thread dsq:id="100"/></post>'),
     "a post has no dsq:id"),
    (_disqus_thread(THREAD + '\n<post dsq:id="7"><message>x</message>'
                    "<createdAt>2023-05-01T12:00:00Z</createdAt></post>"),
     "post 7 names no thread"),
    (_disqus_thread(THREAD + '\n<post dsq:id="7"><message>x</message>'
                    '<thread dsq:id="100"/></post>'),
     "post 7 has no createdAt"),
    (_disqus_thread(THREAD + '\n<post dsq:id="7"><message>x</message>'
                    '<createdAt>last Tuesday</createdAt><thread dsq:id="100"/></post>'),
     "post 7: createdAt is not an ISO 8601 date: 'last Tuesday'"),
], ids=["empty", "rss", "thread-id", "post-id", "post-thread", "no-date", "bad-date"])
def test_it_refuses_a_disqus_export_it_cannot_read(
    rostra: Rostra, tmp_path: Path, document: str, message: str
) -> None:
    path = tmp_path / "disqus.xml"
    path.write_text(document, encoding="utf-8")
    output = _refused(rostra, "disqus", path, "--site", "news")
    assert message in output


def test_it_names_the_fault_of_the_file_it_reads_not_of_one_read_before(
    rostra: Rostra, tmp_path: Path
) -> None:
    # lxml keeps the last errors per thread: an empty file has no error of its own, and
    # was reported with the fault of the file parsed before it.
    broken = tmp_path / "broken.xml"
    broken.write_text(_disqus_thread("<thread>\n</threads>"), encoding="utf-8")
    assert ("line 4, column 11: malformed XML: Opening and ending tag mismatch: thread line 3 and "
            "threads") in \
        _refused(rostra, "disqus", broken, "--site", "news")
    empty = tmp_path / "empty.xml"
    empty.write_text("", encoding="utf-8")
    output = _refused(rostra, "disqus", empty, "--site", "news")
    assert "import stopped: line 0, column 0: malformed XML: no element found" in output
    assert "mismatch" not in output


def test_it_skips_disqus_threads_that_name_no_page(rostra: Rostra, tmp_path: Path) -> None:
    path = write_disqus(
        tmp_path / "disqus.xml",
        [DisqusThread("100", "https://news.example/a/"), DisqusThread("101", "", identifier="")],
        [DisqusPost("1", "100", "<p>Placed</p>"), DisqusPost("2", "101", "<p>Nowhere</p>")],
    )
    result = rostra.ok("import", "disqus", path, "--site", "news")
    assert "skipped: thread without a usable link or identifier" in result.output
    assert [r.text for r in comments_of(rostra.db, thread_by_key(rostra.db, "news", "/a").id)] \
        == ["<p>Placed</p>"]
    assert counts(rostra.db)["comments"] == 1


def test_it_refuses_what_is_not_an_isso_database(rostra: Rostra, tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("these are notes, not a database\n" * 100)
    assert "not an SQLite database" in _refused(rostra, "isso", text, "--site", "b")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE threads (id INTEGER PRIMARY KEY, uri TEXT)")
        conn.execute("CREATE TABLE comments (id INTEGER PRIMARY KEY, body TEXT)")
    conn.close()
    assert ("not an Isso database: tables threads(id, uri) and comments(tid, id, parent, "
            "created, mode, text) are needed") in _refused(rostra, "isso", other, "--site", "b")


def test_it_skips_isso_threads_without_a_uri_and_comments_in_unknown_modes(
    rostra: Rostra, tmp_path: Path
) -> None:
    path = write_isso(tmp_path / "isso.db", [(1, "/post/a", "A"), (2, "", "No page")], [
        {"tid": 1, "id": 1, "created": 1_600_000_000.0, "text": "Kept"},
        {"tid": 1, "id": 2, "created": 1_600_000_100.0, "text": "Mode 8", "mode": 8},
        {"tid": 2, "id": 3, "created": 1_600_000_200.0, "text": "On no page"},
    ])
    result = rostra.ok("import", "isso", path, "--site", "blog")
    output = " ".join(result.output.split())
    assert "skipped: thread with an empty uri" in output
    assert "skipped: comment in unknown Isso mode 8" in output
    thread = thread_by_key(rostra.db, "blog", "/post/a")
    assert [r.text for r in comments_of(rostra.db, thread.id)] == ["Kept"]
    assert counts(rostra.db)["threads"] == 1


@pytest.mark.parametrize(("lines", "message"), [
    ('{"version":1}\n{"id": "c1", "locator": \n', "line 2, column 25: not JSON: Expecting value"),
    ('{"version":1}\n["c1"]\n', "line 2: a line is not a JSON object"),
    ('{"version":7,"users":[]}\n', "line 1: unknown Remark42 backup version 7"),
    ('{"version":1}\n{"id":"","locator":{"url":"https://blog.example/a"}}\n',
     "line 2, element <id>: a comment has no id"),
    ('{"version":1}\n{"id":"c1","locator":{"url":"https://blog.example/a"},"time":"soon"}\n',
     "line 2: time is not a date: 'soon'"),
    (('{"version":1}\n{"id":"c1","locator":{"url":"https://blog.example/a"},'
      '"time":"2022-01-01T10:00:00Z","edit":{"time":"later"}}\n'),
     "line 2: edit.time is not a date: 'later'"),
], ids=["json", "array", "version", "no-id", "time", "edit-time"])
def test_it_refuses_a_remark42_backup_it_cannot_read(
    rostra: Rostra, tmp_path: Path, lines: str, message: str
) -> None:
    path = tmp_path / "backup.json"
    path.write_text(lines, encoding="utf-8")
    assert message in _refused(rostra, "remark42", path, "--site", "blog")


def test_it_skips_remark42_comments_without_a_page_and_counts_scores_without_voters(
    rostra: Rostra, tmp_path: Path
) -> None:
    placed = remark_comment("c1", "https://blog.example/a", "Scored")
    placed["score"] = -3
    nowhere = remark_comment("c2", "", "Nowhere")
    path = write_remark42(tmp_path / "backup.json", [placed, nowhere])
    path.write_text(path.read_text().replace("\n", "\n\n", 1))  # a blank line is passed over
    result = rostra.ok("import", "remark42", path, "--site", "blog")
    assert "skipped: comment without a page URL" in " ".join(result.output.split())
    [row] = comments_of(rostra.db, thread_by_key(rostra.db, "blog", "/a").id)
    assert (row.text, row.upvotes, row.downvotes) == ("Scored", 0, 3)
    assert counts(rostra.db)["comments"] == 1


def _wxr_text(*comments: WpComment) -> str:
    return WXR_HEAD + WpPost(12, "Rents", "https://news.example/2024/03/rents/",
                             comments=list(comments)).xml() + WXR_TAIL


@pytest.mark.parametrize(("document", "message"), [
    (_wxr_text(WpComment(1, "ok"), WpComment(2, "?", approved="maybe")),
     "comment 2: unknown wp:comment_approved 'maybe'"),
    (_wxr_text(WpComment(1, "ok"), WpComment(2, "no date", date_gmt=None)),
     "comment 2: wp:comment_date_gmt is missing"),
    (_wxr_text(WpComment(1, "ok")).replace("<wp:comment_id>1</wp:comment_id>", ""),
     "wp:comment_id is missing"),
    (_wxr_text(WpComment(1, "ok")).replace("<rss version", "<feed version")
     .replace("</rss>", "</feed>"),
     "not a WordPress export (WXR): the root element is not <rss>"),
    ('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>No posts</title></channel>'
     "</rss>\n", "the file is empty"),
], ids=["approved", "no-date", "no-id", "not-rss", "no-items"])
def test_it_refuses_a_wordpress_export_it_cannot_read(
    rostra: Rostra, tmp_path: Path, document: str, message: str
) -> None:
    path = tmp_path / "export.xml"
    path.write_text(document, encoding="utf-8")
    assert message in _refused(rostra, "wordpress", path, "--site", "news")
