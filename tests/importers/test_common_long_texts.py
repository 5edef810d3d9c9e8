"""Comment texts longer than the importers' HTML cache takes (1,000 characters) get the
same treatment as short ones, uncached: WordPress's auto-paragraphs (or its own <p>
markup kept as written), <b> and <i> as <strong> and <em>, scripts dropped; on SQLite
and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from import_builders import (
    DisqusPost,
    DisqusThread,
    WpComment,
    WpPost,
    write_disqus,
    write_wxr,
)
from import_helpers import Rostra, by_text, comments_of, thread_by_key

from rostra.importers.common import CACHED_HTML_LENGTH

FILLER = "words " * 200  # 1,200 characters: past the cache


def _doc(markup: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(markup, create_parent="div")


def test_long_wordpress_comments_get_paragraphs_and_semantic_tags(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    rostra, _ = backend
    plain = f"<b>Plain</b> start {FILLER}\nsame paragraph\n\nSecond <i>part</i><script>x()</script>"
    marked = f"<p>Marked <B class='x'>up</B> {FILLER}\nno break added</p><p>Two</p>"
    assert min(len(plain), len(marked)) > CACHED_HTML_LENGTH
    path = write_wxr(tmp_path / "long.xml", [WpPost(
        12, "Story", "https://news.example/2024/03/story/",
        comments=[WpComment(1, plain), WpComment(2, marked)])])
    rostra.ok("import", "wordpress", path, "--site", "news")
    rows = comments_of(rostra.db, thread_by_key(rostra.db, "news", "/2024/03/story").id)
    first = _doc(by_text(rows, "Plain").html)
    assert [p.text_content().split()[0] for p in first.xpath("//p")] == ["Plain", "Second"]
    assert len(first.xpath("//p[1]/br")) == 1
    assert first.xpath("string(//strong)") == "Plain" and first.xpath("string(//em)") == "part"
    assert first.xpath("//script|//b|//i") == []
    assert "x()" not in first.text_content()
    second = _doc(by_text(rows, "Marked").html)
    assert [p.text_content().split()[0] for p in second.xpath("//p")] == ["Marked", "Two"]
    assert second.xpath("//br|//b") == [] and second.xpath("string(//strong)") == "up"
    assert second.xpath("//strong/@class") == []


def test_a_long_disqus_message_is_sanitised_uncached(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    rostra, _ = backend
    message = f"<p>Long <b>bold</b> {FILLER}</p><p>End<script>x()</script></p>"
    assert len(message) > CACHED_HTML_LENGTH
    path = write_disqus(tmp_path / "disqus.xml",
                        [DisqusThread("100", "https://news.example/a/")],
                        [DisqusPost("1", "100", message)])
    rostra.ok("import", "disqus", path, "--site", "news")
    row = comments_of(rostra.db, thread_by_key(rostra.db, "news", "/a").id)[0]
    doc = _doc(row.html)
    assert [p.text_content().split()[0] for p in doc.xpath("//p")] == ["Long", "End"]
    assert doc.xpath("string(//strong)") == "bold"
    assert doc.xpath("//script|//b") == [] and "x()" not in doc.text_content()
