"""Shapes met in the peers' own export files (Remark42's and Isso's test data), rebuilt
with our own text: what came through wrongly when those files were imported."""

from __future__ import annotations

from pathlib import Path

from import_builders import (
    write_remark42,
)
from import_helpers import Rostra, comments_of, thread_by_key


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
