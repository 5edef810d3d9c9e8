"""Open pages of a thread hear nothing of a shadow-banned author's comments: not their
posts, replies or edits (no "N new comments" that would count them, no bare "changed"
after which a page's count would move), over the real stream. Their own page shows what
they post from the answer to it, as it does any reader's own post."""

from __future__ import annotations

import queue

import httpx

from tests.api.test_hot_threads import Events
from tests.api.test_live_news import _quiet
from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import new_site
from tests.moderation.test_shadow_ban_looks_published import shadow_ban


def test_open_pages_hear_nothing_of_a_hidden_comment(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver)
    thread = "/live-shadow/"
    eve, ben = Reader("Eve", http, site), Reader("Ben", http, site)
    shadow_ban(http, site, eve.post(thread, "A first and harmless comment.").json()["comment"]["id"])
    stream = Events(mserver, site, thread)
    try:
        posted = eve.post(thread, "My view on the matter, plainly put.")
        assert posted.json()["comment"]["state"] == "approved"  # as her page shows it
        hidden = posted.json()["comment"]["id"]
        assert eve.post(thread, "And a follow-up to it.", parent_id=hidden).status_code == 201
        edited = http.patch(f"/api/comments/{hidden}", headers=eve.headers(hidden),
                            json={"text": "My view on the matter, put another way."})
        assert edited.status_code == 200, edited.text
        heard = _quiet(stream, ben)
        assert heard == [], heard
        # An ordinary reader's comment is heard at once, alone.
        plain = ben.post(thread, "A plain reader comment here.").json()["comment"]["id"]
        name, data = stream.next()
        assert name == "changed" and data["comment"]["id"] == plain
        try:
            extra = stream.next(timeout=1)
        except queue.Empty:
            extra = None
        assert extra is None
        assert ben.page(thread)["thread"]["total"] == 2  # Eve's first comment and Ben's
    finally:
        stream.close()
