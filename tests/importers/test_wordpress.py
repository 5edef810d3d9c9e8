"""WordPress WXR with wpDiscuz data, imported through `rostra import wordpress`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lxml.html
from import_builders import WpComment, WpPost, write_wxr
from import_helpers import (
    Rostra,
    aliases_of,
    by_text,
    comments_of,
    counts,
    questions_of,
    subscriptions_of,
    thread_by_key,
    votes_of,
)

ARTICLE = (
    "<p>The council met on Monday. "
    '[wpdiscuz-feedback id="q1aa" question="Is this fair?" opened="1"]'
    "Rents rise by <b>ten</b> percent[/wpdiscuz-feedback] next year. "
    '[wpdiscuz-feedback id="q2bb" question="Did you know?" opened="0"]'
    "The vote was close[/wpdiscuz-feedback].</p>"
)


def story() -> WpPost:
    return WpPost(
        id=12, title="Rents &amp; the council", link="https://news.example/2024/03/rents/",
        content=ARTICLE,
        comments=[
            WpComment(1, "Top comment\n\nwith two paragraphs",
                      meta={"wpdiscuz_votes": "3",
                            "wpdiscuz_votes_seperate": 'a:2:{s:4:"like";i:4;s:7:"dislike";i:1;}'}),
            WpComment(2, "A reply <script>alert(1)</script><a href=\"javascript:x()\">x</a>",
                      parent=1, author="Олена", meta={"wpdiscuz_votes": "-2"}),
            WpComment(3, "Reply to the reply 한국어 🎉", parent=2, email=None, ip=None, url=None),
            WpComment(4, "Waiting for a moderator", approved="0"),
            WpComment(5, "Buy pills", approved="spam"),
            WpComment(6, "Trashed by a moderator", approved="trash"),
            WpComment(7, "Reply under trash", parent=6),
            WpComment(8, "Parent was deleted before the export", parent=999),
            WpComment(9, "Linked from elsewhere", type="pingback"),
            WpComment(10, "On the rents passage", meta={"wpdiscuz_feedback_form_id": "41"}),
            WpComment(11, "On the vote passage", meta={"wpdiscuz_feedback_form_id": "42"}),
            WpComment(12, "Post trashed", approved="post-trashed", author=None),
        ],
    )


def site_file(tmp_path: Path) -> Path:
    return write_wxr(tmp_path / "export.xml", [
        story(),
        WpPost(20, "About", "https://news.example/about/", post_type="page",
               comment_status="closed"),
        WpPost(21, "logo.png", "https://news.example/logo/", post_type="attachment"),
        WpPost(22, "Draft", "https://news.example/?p=22", status="draft"),
    ])


def test_it_imports_posts_comments_states_and_votes(rostra: Rostra, tmp_path: Path) -> None:
    result = rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news",
                       "--origin", "https://news.example")
    assert "pingback" in result.output
    thread = thread_by_key(rostra.db, "news", "/2024/03/rents")
    assert thread.title == "Rents & the council"
    assert thread.url == "https://news.example/2024/03/rents/"
    assert aliases_of(rostra.db, thread.id) == {"/?p=12", "12"}
    rows = comments_of(rostra.db, thread.id)
    assert len(rows) == 11  # the pingback is skipped
    top, reply, deep = by_text(rows, "Top"), by_text(rows, "A reply"), by_text(rows, "한국어")
    assert (reply.parent_id, reply.root_id, reply.depth) == (top.id, top.id, 1)
    assert (deep.parent_id, deep.root_id, deep.depth) == (reply.id, top.id, 2)
    assert (top.upvotes, top.downvotes, top.score) == (4, 1, 3)
    assert (reply.upvotes, reply.downvotes, reply.score) == (0, 2, -2)
    assert reply.author_name == "Олена"
    assert deep.author_email is None and deep.ip_hash is None
    assert top.ip_hash and "203.0.113.7" not in top.ip_hash
    states = {r.text: r.state for r in rows}
    assert states["Waiting for a moderator"] == "pending"
    assert states["Buy pills"] == "spam"
    assert states["Trashed by a moderator"] == "deleted"
    assert states["Post trashed"] == "rejected"
    orphan = by_text(rows, "Parent was deleted")
    assert orphan.parent_id is None and orphan.root_id == orphan.id
    # approved: 1, 2, 3, 7, 8, 10, 11; top-level approved: 1, 8, 10, 11
    assert (thread.comment_count, thread.top_level_count) == (7, 4)
    assert top.reply_count == 1
    trashed = by_text(rows, "Trashed by")
    assert trashed.reply_count == 1  # a tombstone with its reply
    page = thread_by_key(rostra.db, "news", "/about")
    assert page.closed
    assert aliases_of(rostra.db, page.id) == {"/?page_id=20", "20", "/?p=20"}  # guid too
    assert counts(rostra.db)["threads"] == 2  # attachment and draft without comments: none


def test_it_sanitises_html_and_keeps_the_original(rostra: Rostra, tmp_path: Path) -> None:
    rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news")
    thread = thread_by_key(rostra.db, "news", "/2024/03/rents")
    reply = by_text(comments_of(rostra.db, thread.id), "A reply")
    assert "<script>" in reply.text
    doc = lxml.html.fragment_fromstring(reply.html, create_parent="div")
    assert doc.xpath("//script") == []
    assert all(not a.get("href", "").startswith("javascript") for a in doc.xpath("//a"))
    top = by_text(comments_of(rostra.db, thread.id), "Top comment")
    paragraphs = lxml.html.fragment_fromstring(top.html, create_parent="div").xpath("//p")
    assert [p.text_content() for p in paragraphs] == ["Top comment", "with two paragraphs"]


def test_it_turns_wpdiscuz_feedback_into_anchored_comments(rostra: Rostra, tmp_path: Path) -> None:
    rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news")
    thread = thread_by_key(rostra.db, "news", "/2024/03/rents")
    asked = questions_of(rostra.db, thread.id)
    assert [(q.question_id, q.question, q.opened) for q in asked] == [
        ("q1aa", "Is this fair?", True), ("q2bb", "Did you know?", False)]
    assert asked[0].anchor["exact"] == "Rents rise by ten percent"
    assert asked[0].anchor["prefix"].endswith("The council met on Monday. ")
    assert asked[0].anchor["suffix"].startswith(" next year.")
    text = "The council met on Monday. Rents rise by ten percent next year. The vote was close."
    start, end = asked[1].anchor["start"], asked[1].anchor["end"]
    assert text[start:end] == "The vote was close"
    rows = comments_of(rostra.db, thread.id)
    assert by_text(rows, "rents passage").anchor["question_id"] == "q1aa"
    assert by_text(rows, "vote passage").anchor == asked[1].anchor
    assert by_text(rows, "Top comment").anchor is None


def test_it_imports_nothing_twice(rostra: Rostra, tmp_path: Path) -> None:
    path = site_file(tmp_path)
    rostra.ok("import", "wordpress", path, "--site", "news")
    before = counts(rostra.db)
    result = rostra.ok("import", "wordpress", path, "--site", "news")
    after = counts(rostra.db)
    assert {k: v for k, v in after.items() if k != "import_runs"} == {
        k: v for k, v in before.items() if k != "import_runs"}
    assert "already imported" in result.output


def test_it_adds_only_new_comments_from_a_later_export(rostra: Rostra, tmp_path: Path) -> None:
    first = write_wxr(tmp_path / "first.xml", [
        WpPost(5, "S", "https://news.example/s/", comments=[WpComment(1, "old")])])
    rostra.ok("import", "wordpress", first, "--site", "news")
    later = write_wxr(tmp_path / "later.xml", [
        WpPost(5, "S", "https://news.example/s/",
               comments=[WpComment(1, "old"), WpComment(2, "new reply", parent=1)])])
    rostra.ok("import", "wordpress", later, "--site", "news")
    thread = thread_by_key(rostra.db, "news", "/s")
    rows = comments_of(rostra.db, thread.id)
    assert [r.text for r in rows] == ["old", "new reply"]
    assert rows[1].parent_id == rows[0].id and rows[0].reply_count == 1
    assert thread.comment_count == 2


def test_it_reads_per_voter_votes_and_subscriptions_from_a_dump(
    rostra: Rostra, tmp_path: Path
) -> None:
    dump = tmp_path / "wpdiscuz.sql"
    dump.write_text(
        "-- MySQL dump\n"
        "CREATE TABLE `wp_wc_users_voted` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
        "  `user_id` varchar(255) NOT NULL,\n  `comment_id` int(11) NOT NULL,\n"
        "  `vote_type` int(11) DEFAULT NULL,\n  `is_guest` tinyint(1) DEFAULT 0,\n"
        "  `post_id` int(11) unsigned NOT NULL DEFAULT 0,\n"
        "  `date` int(11) unsigned NOT NULL DEFAULT 0,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n"
        "INSERT INTO `wp_wc_users_voted` VALUES (1,'7',1,1,0,12,1709287200),"
        "(2,'0f1e;\\'x',1,-1,1,12,1709287300),(3,'9',999,1,0,12,1709287300);\n"
        "INSERT INTO `wp_wc_feedback_forms` (`id`,`post_id`,`unique_id`,`question`,`opened`,"
        "`content`) VALUES (41,12,'q2bb','Did you know?',0,'x'),(42,12,'q1aa','Fair?',1,'y');\n"
        "INSERT INTO `wp_wc_comments_subscription` (`id`,`email`,`subscribtion_id`,`post_id`,"
        "`subscribtion_type`,`activation_key`,`confirm`,`subscription_date`,`imported_from`)"
        " VALUES (1,'ana@example.com',12,12,'post','k',1,'2024-03-01 10:00:00','');\n",
        encoding="utf-8",
    )
    result = rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news",
                       "--wpdiscuz-sql", dump)
    thread = thread_by_key(rostra.db, "news", "/2024/03/rents")
    rows = comments_of(rostra.db, thread.id)
    top = by_text(rows, "Top comment")
    assert votes_of(rostra.db, top.id) == {"x:wp:7": 1, "x:wp:0f1e;'x": -1}
    assert "vote on a comment that is not imported" in result.output
    # The dump names the question of each form id exactly (here against document order).
    assert by_text(rows, "rents passage").anchor["question_id"] == "q2bb"
    assert "does not hold wpDiscuz" not in result.output


SUBSCRIPTION_COLUMNS = (
    "(`id`,`email`,`subscribtion_id`,`post_id`,`subscribtion_type`,`activation_key`,"
    "`confirm`,`subscription_date`,`imported_from`)"
)


def subscription_dump(path: Path) -> Path:
    """wpDiscuz subscriptions of the story (post 12): every type, confirmed or not."""
    path.write_text(
        "INSERT INTO `wp_wc_comments_subscription` " + SUBSCRIPTION_COLUMNS + " VALUES "
        "(1,'Ana@Example.com',12,12,'post','k1',1,'2024-03-01 10:00:00',''),"
        "(2,'ana@example.com',1,12,'comment','k2',1,'2024-03-01 10:05:00',''),"
        "(3,'ana@example.com',2,12,'comment','k3',1,'2024-03-01 10:06:00',''),"
        "(4,'bo@example.com',12,12,'all_comment','k4','0','2024-03-02 08:00:00',''),"
        "(5,'cy@example.com',999,12,'comment','k5',1,'2024-03-02 08:00:00',''),"
        "(6,'not an address',12,12,'post','k6',1,'2024-03-02 08:00:00',''),"
        "(7,'dee@example.com',12,77,'post','k7',1,'2024-03-02 08:00:00',''),"
        "(8,'eve@example.com',12,12,'weekly','k8',1,'2024-03-02 08:00:00','');\n",
        encoding="utf-8",
    )
    return path


def test_it_imports_wpdiscuz_subscriptions_from_a_dump(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    rostra, _ = backend
    dump = subscription_dump(tmp_path / "subs.sql")
    result = rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news",
                       "--wpdiscuz-sql", dump)
    thread = thread_by_key(rostra.db, "news", "/2024/03/rents")
    rows = comments_of(rostra.db, thread.id)
    first, reply = by_text(rows, "Top comment").id, by_text(rows, "A reply").id
    assert subscriptions_of(rostra.db, "news") == {
        ("ana@example.com", "/2024/03/rents", "thread", True, ()),
        # wpDiscuz's one row per followed comment: one "replies" subscription following both.
        ("ana@example.com", "/2024/03/rents", "replies", True, (first, reply)),
        ("bo@example.com", "/2024/03/rents", "replies", False, ()),
    }
    output = " ".join(result.output.split())
    for reason in ("subscription to a comment that is not imported",
                   "subscription without a valid email address",
                   "subscription to a page that is not imported",
                   "subscription of an unknown type"):
        assert reason in output
    # A second run creates nothing twice.
    before = counts(rostra.db)
    rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news",
              "--wpdiscuz-sql", dump)
    after = counts(rostra.db)
    assert {k: v for k, v in after.items() if k != "import_runs"} == {
        k: v for k, v in before.items() if k != "import_runs"}


def test_it_says_what_a_wxr_alone_cannot_carry(rostra: Rostra, tmp_path: Path) -> None:
    result = rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news")
    assert "per-voter votes" in " ".join(result.output.split())


def test_it_keeps_pingbacks_when_asked(rostra: Rostra, tmp_path: Path) -> None:
    rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news", "--keep-pingbacks")
    thread = thread_by_key(rostra.db, "news", "/2024/03/rents")
    assert by_text(comments_of(rostra.db, thread.id), "Linked from").state == "approved"


PLAIN_PERMALINKS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:wp="http://wordpress.org/export/1.0/">
<channel>
  <item>
    <title>Placed by its post id</title>
    <link>http://blog.example/2014/test/</link>
    <wp:post_id>18</wp:post_id>
    <wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_author>Ohai</wp:comment_author>
      <wp:comment_date_gmt>2014-01-14 17:32:12</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Erster!]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
  </item>
  <item>
    <title>No post id: placed by its plain permalink</title>
    <link>http://blog.example/?p=4</link>
    <wp:comment><wp:comment_id>21</wp:comment_id><wp:comment_author>Anon</wp:comment_author>
      <wp:comment_date_gmt>2014-04-29 15:21:57</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[On a blog with plain permalinks.]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
  </item>
  <item>
    <title>Neither post id nor link: placed by its guid</title>
    <guid isPermaLink="false">http://blog.example/?p=7</guid>
    <wp:comment><wp:comment_id>22</wp:comment_id><wp:comment_author>Guid</wp:comment_author>
      <wp:comment_date_gmt>2014-04-29 15:22:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Found through the guid.]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
  </item>
  <item>
    <title>Nothing to place it by</title>
    <wp:comment><wp:comment_id>23</wp:comment_id><wp:comment_author>Lost</wp:comment_author>
      <wp:comment_date_gmt>2014-04-29 15:23:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Nobody can tell where I belong.]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
    <wp:comment><wp:comment_id>24</wp:comment_id><wp:comment_author>Lost</wp:comment_author>
      <wp:comment_date_gmt>2014-04-29 15:24:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Nor I.]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved><wp:comment_parent>23</wp:comment_parent>
    </wp:comment>
  </item>
  <item>
    <title>No comments</title>
    <link>http://blog.example/?p=6</link>
  </item>
</channel>
</rss>
"""


def skipped_of(db: Any) -> dict[str, int]:
    """What the latest import run skipped, by reason."""
    from sqlalchemy import select

    from rostra.store.import_tables import import_runs

    with db.read() as conn:
        summary = conn.scalar(select(import_runs.c.summary).order_by(import_runs.c.id.desc()))
    return dict(summary["skipped"])


def test_it_places_items_by_post_id_link_or_guid_and_skips_only_what_it_cannot(
    rostra: Rostra, tmp_path: Path
) -> None:
    path = tmp_path / "plain.xml"
    path.write_text(PLAIN_PERMALINKS, encoding="utf-8")
    result = rostra.ok("import", "wordpress", path, "--site", "blog")
    assert [r.text for r in comments_of(rostra.db, thread_by_key(rostra.db, "blog",
                                                                 "/2014/test").id)] == ["Erster!"]
    plain = thread_by_key(rostra.db, "blog", "/?p=4")
    assert plain.title == "No post id: placed by its plain permalink"
    assert [r.text for r in comments_of(rostra.db, plain.id)] == [
        "On a blog with plain permalinks."]
    assert "4" in aliases_of(rostra.db, plain.id)  # found by post id, as /?p=4 links are
    by_guid = thread_by_key(rostra.db, "blog", "/?p=7")
    assert [r.text for r in comments_of(rostra.db, by_guid.id)] == ["Found through the guid."]
    assert counts(rostra.db)["comments"] == 3
    assert skipped_of(rostra.db) == {
        "item without wp:post_id, link or guid (its comments are skipped with it)": 1,
        "comment on an item without wp:post_id, link or guid": 2}
    assert "item without wp:post_id, link or guid" in " ".join(result.output.split())
    # Running it again places everything the same way: nothing twice.
    rostra.ok("import", "wordpress", path, "--site", "blog")
    assert counts(rostra.db)["comments"] == 3


def test_it_keeps_bold_and_italic_from_wordpress(rostra: Rostra, tmp_path: Path) -> None:
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "b.xml", [
        WpPost(1, "B", "https://news.example/b/", comments=[
            WpComment(1, "This is <b>bold</b>, <i>slanted</i> and <strong>strong</strong>.")])]),
              "--site", "news")
    [row] = comments_of(rostra.db, thread_by_key(rostra.db, "news", "/b").id)
    doc = lxml.html.fragment_fromstring(row.html, create_parent="div")
    assert doc.xpath("string(.//strong[1])") == "bold"
    assert doc.xpath("string(.//em[1])") == "slanted"
    assert doc.xpath("string(.//strong[2])") == "strong"


def test_it_shows_only_web_addresses_as_an_authors_website(rostra: Rostra,
                                                           tmp_path: Path) -> None:
    from rostra.services.serialise import comment_json

    rostra.ok("import", "wordpress", write_wxr(tmp_path / "w.xml", [
        WpPost(1, "W", "https://news.example/w/", comments=[
            WpComment(1, "Mine is a blog", url="http://ana.example/"),
            WpComment(2, "Mine is a script", url="javascript:alert(document.domain)"),
            WpComment(3, "Mine is not a URL", url="ana dot example")])]), "--site", "news")
    rows = comments_of(rostra.db, thread_by_key(rostra.db, "news", "/w").id)
    shown = [comment_json(row)["author"]["website"] for row in rows]
    assert shown == ["http://ana.example/", None, None]
