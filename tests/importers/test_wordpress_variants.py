"""WXR files as real sites write them: WordPress.com's https namespace, password-protected
and private posts, and comment types that are not readers' comments (WordPress 6.9's
editorial notes, WooCommerce's order notes)."""

from __future__ import annotations

from pathlib import Path

from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, comments_of, counts, last_summary, thread_by_key

STORY = "https://news.example/2024/03/story/"
HTTP_WP = 'xmlns:wp="http://wordpress.org/export/1.2/"'


def _said(output: str) -> str:
    return " ".join(output.split())


def test_it_reads_an_export_in_the_https_namespace(rostra: Rostra, tmp_path: Path) -> None:
    # WordPress.com binds wp: to https://wordpress.org/export/1.2/ (WordPress's own
    # importer reads both).
    path = write_wxr(tmp_path / "wpcom.xml", [WpPost(12, "Story", STORY, comments=[
        WpComment(1, "First"), WpComment(2, "A reply", parent=1)])])
    path.write_text(path.read_text().replace(
        HTTP_WP, 'xmlns:wp="https://wordpress.org/export/1.2/"'))
    rostra.ok("import", "wordpress", path, "--site", "news")
    thread = thread_by_key(rostra.db, "news", "/2024/03/story")
    rows = comments_of(rostra.db, thread.id)
    assert [(r.text, r.parent_id) for r in rows] == [("First", None), ("A reply", rows[0].id)]
    assert thread.comment_count == 2


def test_it_says_when_an_item_has_comments_it_does_not_know(
    rostra: Rostra, tmp_path: Path
) -> None:
    path = write_wxr(tmp_path / "odd.xml", [WpPost(12, "Story", STORY, comments=[
        WpComment(1, "First"), WpComment(2, "Second")])])
    text = path.read_text().replace(HTTP_WP, HTTP_WP + ' xmlns:x="http://example.com/x/"')
    path.write_text(text.replace("<wp:comment>", "<x:comment>").replace(
        "</wp:comment>", "</x:comment>"))
    result = rostra.ok("import", "wordpress", path, "--site", "news")
    assert counts(rostra.db)["comments"] == 0
    notice = ("2 <comment> elements of items in the namespace http://example.com/x/ "
              "are not WordPress comments: not imported")
    assert notice in last_summary(rostra.db)["notices"]
    assert notice in _said(result.output)


def test_comments_of_protected_and_private_posts_are_held(
    rostra: Rostra, tmp_path: Path
) -> None:
    path = write_wxr(tmp_path / "x.xml", [
        WpPost(12, "Open", STORY, comments=[WpComment(1, "Public")]),
        WpPost(13, "Members", "https://news.example/members/", password="s3cret", comments=[
            WpComment(2, "Behind the password"), WpComment(3, "Spam there", approved="spam"),
            WpComment(4, "Reply behind it", parent=2)]),
        WpPost(14, "Staff", "https://news.example/staff/", status="private",
               comments=[WpComment(5, "Private post")]),
    ])
    result = rostra.ok("import", "wordpress", path, "--site", "news")
    public = thread_by_key(rostra.db, "news", "/2024/03/story")
    assert [r.state for r in comments_of(rostra.db, public.id)] == ["approved"]
    members = thread_by_key(rostra.db, "news", "/members")
    assert [(r.text, r.state) for r in comments_of(rostra.db, members.id)] == [
        ("Behind the password", "pending"), ("Spam there", "spam"),
        ("Reply behind it", "pending")]
    assert members.comment_count == 0
    staff = thread_by_key(rostra.db, "news", "/staff")
    assert [r.state for r in comments_of(rostra.db, staff.id)] == ["pending"]
    assert staff.comment_count == 0
    [notice] = [n for n in last_summary(rostra.db)["notices"] if "password" in n]
    assert notice.startswith("3 approved comments of password-protected or private posts "
                             "were imported as pending")
    assert notice[:60] in _said(result.output)


def test_it_imports_only_readers_comments(rostra: Rostra, tmp_path: Path) -> None:
    path = write_wxr(tmp_path / "x.xml", [WpPost(12, "Story", STORY, comments=[
        WpComment(1, "Plain"), WpComment(2, "Typed comment", type="comment"),
        WpComment(3, "Five stars", type="review"),
        WpComment(4, "Editor: check the figures", type="note", approved="0"),
        WpComment(5, "Editor: done", type="note", approved="0", parent=4),
        WpComment(6, "Order shipped", type="order_note"),
        WpComment(7, "Linked", type="pingback"),
    ])])
    rostra.ok("import", "wordpress", path, "--site", "news")
    thread = thread_by_key(rostra.db, "news", "/2024/03/story")
    assert [r.text for r in comments_of(rostra.db, thread.id)] == [
        "Plain", "Typed comment", "Five stars"]
    assert last_summary(rostra.db)["skipped"] == {
        "comment_type note: not a reader's comment": 2,
        "comment_type order_note: not a reader's comment": 1,
        "pingback (use --keep-pingbacks to import)": 1}
    rostra.ok("import", "wordpress", path, "--site", "other", "--keep-pingbacks")
    assert last_summary(rostra.db)["skipped"] == {
        "comment_type note: not a reader's comment": 2,
        "comment_type order_note: not a reader's comment": 1}
    assert counts(rostra.db)["comments"] == 3 + 4
