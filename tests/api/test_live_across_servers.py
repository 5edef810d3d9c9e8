"""Open pages on one server get a comment posted on another with the live event itself,
as pages of the server that took it do: no fetch of the thread per page (issue 14)."""

from __future__ import annotations

import json

import pytest

from tests.api.test_change_bus import TRANSPORTS, Stream, bus_overrides, two_servers, within
from tests.conftest import ORIGIN, Reader


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pages_on_the_other_server_get_the_comment_itself(transport: str) -> None:
    with two_servers(**bus_overrides(transport)) as (a, b), a.client() as ha, \
            b.client() as hb:
        site = a.add_site("live", [ORIGIN])
        within(1, lambda: b.services.sites.get(site) is not None)
        ana = Reader("Ana", ha, site)
        first = ana.post("/story", "The first comment, so the thread exists.")
        assert first.status_code == 201
        on_b = Stream(b.url, site, "/story")
        try:
            posted = ana.post("/story", "Posted on A, read on **B**.", parent_id=None)
            assert posted.status_code == 201, posted.text
            comment = posted.json()["comment"]
            within(2, lambda: any(e.get("comment", {}).get("id") == comment["id"]
                                  for e in on_b.data))
            # Every event carries its comment (the first one's may come too, if the bus
            # brought it after the stream opened): none is a bare "changed".
            assert all("comment" in e for e in on_b.data), on_b.data
            [event] = [e for e in on_b.data if e["comment"]["id"] == comment["id"]]
            assert event["thread"] == "/story"
            sent = event["comment"]
            assert sent["id"] == comment["id"]
            assert sent["html"] == comment["html"] == "<p>Posted on A, read on <strong>B</strong>.</p>"
            assert sent["author"]["name"] == "Ana"
            assert sent["state"] == "approved"
            # Just what a page of B reads for that comment, where it fetched the thread.
            page = Reader("Bob", hb, site).page("/story")
            assert [c for c in page["comments"] if c["id"] == comment["id"]] == [
                {**sent, "replies": []}]
        finally:
            on_b.close()


@pytest.mark.postgres
def test_a_held_comment_is_never_sent_to_the_other_servers_pages() -> None:
    with two_servers() as (a, b), a.client() as ha:
        site = a.add_site("held", [ORIGIN], moderation={
            "mode": "first_time", "toxicity": False, "rate_limits": {"post_author": ""}})
        within(1, lambda: b.services.sites.get(site) is not None)
        known = Reader("Ana", ha, site, ip="198.51.100.20")
        first = known.post("/story", "A first comment, held as any first one is.",
                          email="ana@example.org")
        assert first.status_code == 201 and first.json()["comment"]["state"] == "pending"
        approved = ha.post(f"/api/moderation/comments/{first.json()['comment']['id']}/approve",
                           headers={"Authorization": "Bearer bus-admin-token-0123456789abcdef"})
        assert approved.status_code == 200, approved.text
        on_b = Stream(b.url, site, "/story")
        try:
            held = Reader("Newcomer", ha, site, ip="198.51.100.21").post(
                "/story", "A newcomer's first comment, held.")
            assert held.status_code == 201 and held.json()["comment"]["state"] == "pending"
            # Changes reach B in the order they were committed: once B has sent this
            # one, it has dealt with the held one before it.
            after = known.post("/story", "A known author's second comment, published.",
                           email="ana@example.org")
            assert after.json()["comment"]["state"] == "approved", after.text
            within(2, lambda: on_b.data)
            assert [e["comment"]["id"] for e in on_b.data] == [after.json()["comment"]["id"]]
        finally:
            on_b.close()


def test_a_change_carries_its_comments_and_reads_a_message_of_an_older_server() -> None:
    from datetime import UTC, datetime

    from rostra.store.change_bus import decode, encode
    from rostra.store.changes import Change, ChangeKind

    at = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
    change = Change(ChangeKind.THREAD, "news", "/story", 7, at, (41, 42))
    assert decode(encode([change])[0]) == [change]
    # A server of the version before sends five fields: its change reads as bare.
    older = json.dumps([["thread", "news", "/story", 7, at.isoformat()]])
    assert decode(older) == [Change(ChangeKind.THREAD, "news", "/story", 7, at)]
