"""The queue's notice says only what the server said. After an undo it showed the
``what`` of the address as it was: a link such as /admin/queue?done=undo&what=Your
session expired. Sign in again at https://evil.example/login put that sentence, in the
workspace's own status box, before a moderator's eyes. Now the words of an undo are
signed for the session that did it, and anything else says the action was undone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.admin.conftest import Newsroom

SPOOF = "Your session expired. Sign in again at https://evil.example/login"
JSON = {"Accept": "application/json"}


def _notice(room: Newsroom, path: str, **params: str) -> str:
    doc = room.moderator.page(path, **params)
    return str(doc.xpath('string(//span[@id="notice-text"])')).strip()


def test_a_link_cannot_put_words_in_the_notice(newsroom: Newsroom) -> None:
    room = newsroom
    for params in ({"done": "undo", "what": SPOOF},
                   {"done": "undo", "what": SPOOF, "sig": "0" * 64},
                   {"done": "approve", "n": SPOOF}):
        notice = _notice(room, "/admin/queue", **params)
        assert "evil.example" not in notice and "session expired" not in notice, notice
    assert _notice(room, "/admin/queue", done="undo", what=SPOOF) == "Undid the last action."
    assert _notice(room, "/admin/queue", done="approve", n="3") == "Approved 3 comments."


def test_an_undo_says_what_it_undid_to_whoever_did_it(newsroom: Newsroom) -> None:
    room = newsroom
    held = room.held("A fair point about parking")
    assert room.moderator.post("/admin/act", {"action": "approve", "id": [held]}
                               ).status_code == 303
    undone = room.moderator.post("/admin/undo", {"next": "/admin/queue"})
    assert undone.status_code == 303, undone.text[:300]
    location = undone.headers["location"]
    said = "Undid the last action: approve of 1 comment"
    assert _notice(room, location) == said
    # The same words with another signature, or that link opened by someone else, are
    # not shown.
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert _notice(room, "/admin/queue", **{**query, "what": SPOOF}) == "Undid the last action."
    other = room.owner.page(location).xpath('string(//span[@id="notice-text"])')
    assert str(other).strip() == "Undid the last action."
    # The keyboard's undo (JSON) gets the words and their signature for its reload.
    assert room.moderator.post("/admin/act", {"action": "reject", "id": [held]}
                               ).status_code == 303
    answer = room.moderator.post("/admin/undo", {}, headers=JSON)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert _notice(room, "/admin/queue", done="undo", what=body["undone"],
                   sig=body["sig"]) == "Undid the last action: reject of 1 comment"
