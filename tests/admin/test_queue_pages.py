"""The queue's pages follow the comments, not a count: "Next" goes on after the last
comment shown, whatever was decided or posted meanwhile. With pages by number, a
moderator who decided the 25 comments of page 1 in place (keys, buttons) and went on to
page 2 was shown comments 51-75 and never saw 26-50; with new comments arriving at the
top, page 2 repeated the end of page 1 (SQLite and PostgreSQL)."""

from __future__ import annotations

import random

from tests.admin.conftest import Newsroom
from tests.admin.test_queue import _classified

PAGE = 25


def _page(room: Newsroom, href: str) -> tuple[list[int], dict[str, str], str]:
    """The comments a page shows, its pager's links by their text, and its count line."""
    doc = room.moderator.page(href)
    ids = [int(v) for v in doc.xpath('//article[contains(@class,"item")]/@data-id')]
    links = {a.text_content().strip(): str(a.get("href"))
             for a in doc.xpath('//nav[@class="pager"]//a')}
    return ids, links, " ".join(doc.xpath('string(//p[@class="count"])').split())


WORDS = ("bridge budget council river tram school harbour library market tax mayor "
         "flood museum park cyclists parking rent tourists vote police hospital winter "
         "festival noise trees stadium bakery ferry airport farmers").split()


def _held(room: Newsroom, n: int, start: int = 0) -> list[int]:
    """Held comments unlike each other (alike, the duplicate check files them as spam)."""
    said = [" ".join(random.Random(k).sample(WORDS, 6)) for k in range(start, start + n)]
    return [room.held(f"Why {text}?", name=f"Reader {k}", thread=f"/story/{k % 3}")
            for k, text in zip(range(start, start + n), said, strict=True)]


def _approve(room: Newsroom, ids: list[int]) -> None:
    response = room.moderator.post("/admin/act", {"action": "approve", "id": ids})
    assert response.status_code == 303, response.text


def test_next_goes_on_after_the_comments_decided_in_place(newsroom: Newsroom) -> None:
    room = newsroom
    posted = _held(room, 30)
    first, links, count = _page(room, f"/admin/queue?site={room.site_a}&order=oldest")
    assert first == posted[:PAGE]
    _approve(room, first)  # as the page's script does, one by one, without reloading
    rest, links2, count2 = _page(room, links["Next"])
    assert rest == posted[PAGE:]
    assert count.startswith("30 comments · 1–25")
    assert "Next" not in links2
    assert count2.startswith("5 comments · 1–5")  # nothing is left before them now
    assert "Previous" not in links2


def test_next_and_previous_hold_while_new_comments_arrive(newsroom: Newsroom) -> None:
    room = newsroom
    posted = _held(room, 30)
    newest_first = posted[::-1]
    first, links, _count = _page(room, f"/admin/queue?site={room.site_a}")
    assert first == newest_first[:PAGE]
    arrived = _held(room, 4, start=100)
    second, links2, count2 = _page(room, links["Next"])
    assert second == newest_first[PAGE:]  # no comment of page 1 again
    assert count2.startswith("34 comments · 30–34")
    back, links3, count3 = _page(room, links2["Previous"])
    assert back == newest_first[:PAGE]
    assert count3.startswith("34 comments · 5–29")
    top, _links4, _count4 = _page(room, links3["Previous"])
    assert top == arrived[::-1]


def test_pages_by_risk_go_on_after_the_last_comment_shown(newsroom: Newsroom) -> None:
    room = newsroom
    posted = _held(room, 32)
    base = {"threat": 0.01, "identity_hate": 0.02, "insult": 0.1, "profanity": 0.05}
    for k, comment_id in enumerate(posted):
        if k % 5 == 0:
            continue  # never read by the classifier: last
        # Few distinct scores, so that ties are decided by the spam score, then the time.
        _classified(room, comment_id, (k * 7 % 4) / 4, {**base, "spam": (k % 3) / 3})
    start = f"/admin/queue?site={room.site_a}&order=risk"
    first, links, _count = _page(room, start)
    second, _links, _count = _page(room, links["Next"])
    assert len(first) == PAGE and sorted(first + second) == sorted(posted)
    _approve(room, first[3:20])
    again, _links, _count = _page(room, links["Next"])
    assert again == second


def test_a_page_by_number_still_opens(newsroom: Newsroom) -> None:
    room = newsroom
    posted = _held(room, 27)
    ids, links, count = _page(room, f"/admin/queue?site={room.site_a}&order=oldest&page=2")
    assert ids == posted[PAGE:]
    assert count.startswith("27 comments · 26–27")
    assert set(links) == {"Previous"}


