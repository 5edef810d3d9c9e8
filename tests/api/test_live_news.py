"""Open pages hear what changed, not only that something did: a vote brings the
comment's new counts and an edit the comment as it now reads, on the server that took
them and on every other one. A bare "changed" sends every open page to fetch the
newest comments, which shows neither: on a hot thread each vote cost one read per open
page (issue 14) and showed nothing."""

from __future__ import annotations

import queue
from typing import Any

import pytest

from tests.api.test_change_bus import TRANSPORTS, Stream, bus_overrides, two_servers, within
from tests.api.test_hot_threads import Events
from tests.conftest import ORIGIN, LiveServer, Reader


def _quiet(stream: Events, reader: Reader) -> list[dict[str, Any]]:
    """Events the stream hears while a poll or two pass (the change coming back)."""
    reader.post("/live-news-elsewhere/", "Another thread, to let a poll or two pass.")
    reader.page("/live-news-elsewhere/")
    extra = []
    try:
        while True:
            extra.append(stream.next(timeout=1)[1])
    except queue.Empty:
        return extra


def _edit(reader: Reader, comment_id: int, text: str) -> dict[str, Any]:
    response = reader.http.patch(f"/api/comments/{comment_id}", json={"text": text},
                                 headers=reader.headers(comment_id))
    assert response.status_code == 200, response.text
    comment: dict[str, Any] = response.json()["comment"]
    return comment


def test_a_vote_tells_open_pages_the_new_counts(
    server: LiveServer, site: str, ana: Reader, ben: Reader
) -> None:
    thread = "/live-news-votes/"
    first = ana.post(thread, "Worth a vote.").json()["comment"]["id"]
    stream = Events(server, site, thread)
    try:
        assert ben.vote(first, 1).status_code == 200
        name, data = stream.next()
        assert name == "changed"
        assert data == {"thread": thread.rstrip("/"),
                        "votes": [{"id": first, "score": 1, "upvotes": 1, "downvotes": 0}]}
        assert _quiet(stream, ben) == []  # no second, bare event that pages fetch after
        assert ben.vote(first, -1).status_code == 200
        assert stream.next()[1]["votes"] == [
            {"id": first, "score": -1, "upvotes": 0, "downvotes": 1}]
    finally:
        stream.close()


def test_an_edit_tells_open_pages_the_comment_as_it_now_reads(
    server: LiveServer, site: str, ana: Reader, ben: Reader
) -> None:
    thread = "/live-news-edits/"
    first = ana.post(thread, "A frist draft.").json()["comment"]["id"]
    ben.post(thread, "A reply, so the comment has replies.", parent_id=first)
    stream = Events(server, site, thread)
    try:
        edited = _edit(ana, first, "A *first* draft.")
        name, data = stream.next()
        assert name == "changed"
        assert set(data) == {"thread", "edited"}
        page = ben.page(thread)
        [shown] = [c for c in page["comments"] if c["id"] == first]
        assert data["edited"] == {k: v for k, v in shown.items() if k != "replies"}
        assert data["edited"]["html"] == edited["html"] == "<p>A <em>first</em> draft.</p>"
        assert data["edited"]["edited_at"]
        assert _quiet(stream, ben) == []
    finally:
        stream.close()


def test_an_edit_that_is_held_takes_the_comment_down_without_showing_the_new_text(
    live_server: LiveServer,
) -> None:
    import secrets

    held_site = "n" + secrets.token_hex(5)
    live_server.add_site(held_site, [ORIGIN], moderation={
        "blocklist": ["forbiddenword"], "blocklist_action": "hold"})
    with live_server.client() as http:
        ana = Reader("Ana", http, held_site)
        thread = "/live-news-held-edit/"
        first = ana.post(thread, "Harmless at first.").json()["comment"]["id"]
        stream = Events(live_server, held_site, thread)
        try:
            edited = ana.http.patch(f"/api/comments/{first}",
                                    json={"text": "Now with forbiddenword in it."},
                                    headers=ana.headers(first))
            assert edited.status_code == 200, edited.text
            assert edited.json()["comment"]["state"] == "pending"
            heard = [stream.next()[1]]
            heard += _quiet(stream, Reader("Ben", http, held_site))
            assert heard == [{"thread": thread.rstrip("/"), "removed": [first]}]
        finally:
            stream.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pages_on_the_other_server_hear_votes_and_edits(transport: str) -> None:
    with two_servers(**bus_overrides(transport)) as (a, b), a.client() as ha:
        site = a.add_site("news", [ORIGIN])
        within(1, lambda: b.services.sites.get(site) is not None)
        ana, ben = Reader("Ana", ha, site), Reader("Ben", ha, site)
        first = ana.post("/story", "Posted on A.").json()["comment"]["id"]
        on_b = Stream(b.url, site, "/story")
        try:
            # The first comment's own news may come after the stream opened.
            def news() -> list[dict[str, Any]]:
                return [e for e in on_b.data if "comment" not in e]

            assert ben.vote(first, 1).status_code == 200
            within(2, news)
            edited = _edit(ana, first, "Posted on A, **edited** on A.")
            within(2, lambda: len(news()) >= 2)
            votes, edit = news()[:2]
            assert votes == {"thread": "/story", "votes": [
                {"id": first, "score": 1, "upvotes": 1, "downvotes": 0}]}
            assert edit["thread"] == "/story"
            assert edit["edited"]["id"] == first
            assert edit["edited"]["html"] == edited["html"]
            # None of it is a bare "changed" that B's pages would answer with a fetch.
            assert all(set(e) != {"thread"} for e in on_b.data), on_b.data
        finally:
            on_b.close()


def test_a_moderators_edit_and_its_undo_reach_open_pages(
    server: LiveServer, site: str, ana: Reader, ben: Reader
) -> None:
    from rostra.services.moderation import ModerationService
    from rostra.services.workspace import Workspace

    thread = "/live-news-moderator-edit/"
    first = ana.post(thread, "Call 555-0100 for a bargain.").json()["comment"]["id"]
    workspace = Workspace(server.services, ModerationService(server.services.comments))
    stream = Events(server, site, thread)
    try:
        undo = workspace.edit(first, "Call [number removed] for a bargain.",
                              actor="test-moderator", reason="a phone number")
        assert stream.next()[1]["edited"]["html"] == "<p>Call [number removed] for a bargain.</p>"
        workspace.undo(undo, actor="test-moderator")
        assert stream.next()[1]["edited"]["html"] == "<p>Call 555-0100 for a bargain.</p>"
        assert _quiet(stream, ben) == []
    finally:
        stream.close()


def test_a_change_carries_edits_and_votes_and_an_older_server_reads_the_rest() -> None:
    import json
    from datetime import UTC, datetime

    from rostra.store.change_bus import decode, encode
    from rostra.store.changes import Change, ChangeKind

    at = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
    votes = Change(ChangeKind.THREAD, "news", "/story", 7, at, votes=((41, 3, 4, 1),))
    edited = Change(ChangeKind.THREAD, "news", "/story", 7, at, edited=(41,))
    closed = Change(ChangeKind.THREAD, "news", "/story", 7, at, closed=False)
    pins = Change(ChangeKind.THREAD, "news", "/story", 7, at, pins=((41, "pinned"), (9, "")))
    for change in (votes, edited, closed, pins):
        assert decode(encode([change])[0]) == [change]
        assert change.shown_in_place
    assert not Change(ChangeKind.THREAD, "news", "/story", 7, at).shown_in_place
    # The lists go by position, after those a server of an older version knows (the
    # published and the removed comments), which it reads as empty.
    sent = json.loads(encode([votes])[0])[0]
    assert sent[5:] == [[], [], [], [[41, 3, 4, 1]]]
    older_reads = Change(ChangeKind.THREAD, *sent[1:4], datetime.fromisoformat(sent[4]),
                         tuple(sent[5]), tuple(sent[6]))
    assert not older_reads.comments and not older_reads.removed


def test_a_comment_a_moderator_approves_reaches_open_pages_as_a_new_one(
    live_server: LiveServer,
) -> None:
    import secrets

    from rostra.core.models import CommentState

    held_site = "a" + secrets.token_hex(5)
    live_server.add_site(held_site, [ORIGIN], moderation={"mode": "all"})
    with live_server.client() as http:
        author, reader = Reader("Hal", http, held_site), Reader("Ivy", http, held_site)
        thread = "/live-news-approved/"
        stream = Events(live_server, held_site, thread)
        try:
            held = author.post(thread, "Held until a moderator looks.").json()["comment"]
            assert held["state"] == "pending"
            live_server.services.comments.set_state(held["id"], CommentState.APPROVED)
            name, data = stream.next()
            # The held comment was never sent; approved, it comes as any new comment does.
            assert name == "changed"
            [shown] = reader.page(thread)["comments"]
            assert data == {"thread": thread.rstrip("/"), "comment": shown}
            assert shown["state"] == "approved" and shown["id"] == held["id"]
            assert _quiet(stream, reader) == []
        finally:
            stream.close()


@pytest.mark.postgres
def test_pages_on_the_other_server_get_a_comment_approved_on_one() -> None:
    from rostra.core.models import CommentState

    with two_servers() as (a, b), a.client() as ha:
        site = a.add_site("approved", [ORIGIN], moderation={"mode": "all"})
        within(1, lambda: b.services.sites.get(site) is not None)
        held = Reader("Hal", ha, site).post("/story", "Held, then approved.").json()["comment"]
        on_b = Stream(b.url, site, "/story")
        try:
            a.services.comments.set_state(held["id"], CommentState.APPROVED)
            within(2, lambda: on_b.data)
            [event] = on_b.data
            assert event["comment"]["id"] == held["id"]
            assert event["comment"]["state"] == "approved"
        finally:
            on_b.close()


def test_a_change_of_another_process_hidden_behind_a_vote_still_reaches_the_page() -> None:
    from rostra.services.comments import NewComment, RequestContext
    from rostra.services.container import Services
    from rostra.store.db import Database
    from tests.api.test_change_bus import within
    from tests.conftest import running_server

    # Without a change bus a server hears of other processes' writes from its poll, which
    # sees a thread's newest stamp only: here, that of a vote it made itself.
    with running_server("sqlite", cache_poll_seconds=2) as server, server.client() as http:
        site = server.add_site("hidden", [ORIGIN])
        ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
        first = ana.post("/story", "The first.").json()["comment"]["id"]
        assert [c["id"] for c in ana.page("/story")["comments"]] == [first]  # cached
        db = Database(server.settings.database_url)  # as another process opens it
        try:
            [other] = Services.build(server.settings, db).comments.post_many([(
                NewComment(thread="/story", site=site, name="Cy", text="From elsewhere."),
                RequestContext(origin=ORIGIN, ip="203.0.113.77"))])
            assert not isinstance(other, Exception)
            assert ben.vote(first, 1).status_code == 200  # before the server's next poll
        finally:
            db.dispose()
        within(6, lambda: len(ana.page("/story")["comments"]) == 2)
