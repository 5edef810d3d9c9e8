"""What an import leaves out says why: Remark42's read-only posts stay closed, a comment
id that a file has twice is not "already imported before", and a reply whose parent was
skipped (a pingback) is not said to have a parent missing from the file."""

from __future__ import annotations

import json
from pathlib import Path

from import_builders import WpComment, WpPost, remark_comment, write_wxr
from import_helpers import Rostra, comments_of, last_summary, thread_by_key

OPEN, CLOSED = "https://remark.example/open/", "https://remark.example/closed/"


def test_remark42_read_only_posts_are_closed(rostra: Rostra, tmp_path: Path) -> None:
    meta = {"version": 1, "users": [], "posts": [
        {"url": CLOSED, "read_only": True}, {"url": OPEN, "read_only": False}]}
    path = tmp_path / "backup.jsonl"
    path.write_text("\n".join([json.dumps(meta)] + [json.dumps(c) for c in [
        remark_comment("c1", OPEN, "open"), remark_comment("c2", CLOSED, "closed")]]) + "\n")
    rostra.ok("import", "remark42", path, "--site", "r")
    assert not thread_by_key(rostra.db, "r", "/open").closed
    assert thread_by_key(rostra.db, "r", "/closed").closed


def test_a_comment_id_twice_in_a_file_is_skipped_as_such(rostra: Rostra, tmp_path: Path) -> None:
    # As in Isso's tests/wordpress.xml: comment 11 is on two posts.
    path = write_wxr(tmp_path / "x.xml", [
        WpPost(1, "A", "https://news.example/a/", comments=[WpComment(11, "On A")]),
        WpPost(2, "B", "https://news.example/b/", comments=[
            WpComment(11, "On B, same id"), WpComment(12, "Also on B")]),
    ])
    rostra.ok("import", "wordpress", path, "--site", "news")
    summary = last_summary(rostra.db)
    assert summary["skipped"] == {"comment with a duplicate source id in the file (the first "
                                  "is kept)": 1}
    assert summary["already_imported"] == 0
    texts = [r.text for r in comments_of(rostra.db, thread_by_key(rostra.db, "news", "/b").id)]
    assert texts == ["Also on B"]
    rostra.ok("import", "wordpress", path, "--site", "news", "--batch-size", "1")
    again = last_summary(rostra.db)
    assert again["comments_created"] == 0 and again["already_imported"] == 2
    assert again["skipped"] == summary["skipped"]


def test_a_reply_to_a_skipped_pingback_is_said_so(rostra: Rostra, tmp_path: Path) -> None:
    path = write_wxr(tmp_path / "x.xml", [WpPost(1, "A", "https://news.example/a/", comments=[
        WpComment(1, "Linked from elsewhere", type="pingback"),
        WpComment(2, "Reply to the pingback", parent=1),
        WpComment(3, "Reply to a deleted comment", parent=99)])])
    rostra.ok("import", "wordpress", path, "--site", "news")
    notices = last_summary(rostra.db)["notices"]
    assert "1 replies to a comment the import skipped (see skipped) became top-level" in notices
    assert "1 replies whose parent is not in the file became top-level" in notices
