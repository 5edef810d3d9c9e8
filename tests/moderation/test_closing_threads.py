"""An editor closes an article's discussion to new comments (a legal hold, more abuse
than the desk can read) and opens it again: through the staff API, from the workspace's
comment page, on every server's open pages at once. Before, nothing but an import could
close a thread."""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_change_bus import ADMIN, TRANSPORTS, Stream, bus_overrides, two_servers, within
from tests.conftest import ORIGIN, LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site


def _close(http: httpx.Client, site: str, thread: str, closed: bool = True,
           headers: dict[str, str] = STAFF) -> httpx.Response:
    return http.post("/api/moderation/threads/close", headers=headers, json={
        "site": site, "thread": thread, "closed": closed, "reason": "court order"})


def test_a_closed_discussion_keeps_its_comments_and_takes_no_new_ones(
        mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver)
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    first = ana.post("/trial/", "Before the court's order.").json()["comment"]["id"]
    assert ben.page("/trial/")["thread"]["closed"] is False  # cached now
    closed = _close(http, site, "/trial/")
    assert closed.status_code == 200, closed.text
    assert closed.json()["thread"]["closed"] is True
    # Readers see it closed at once (no stale cached page), with its comments.
    page = ben.page("/trial/")
    assert page["thread"]["closed"] is True
    assert [c["id"] for c in page["comments"]] == [first]
    for refused in (ben.post("/trial/", "After the order."),
                    ben.post("/trial/", "A reply after it.", parent_id=first)):
        assert refused.status_code == 403 and refused.json()["code"] == "thread_closed"
    assert ben.vote(first, 1).status_code == 200  # reading and voting go on
    # Closing twice changes nothing; reopening lets comments in again.
    assert _close(http, site, "/trial/").json()["thread"]["closed"] is True
    assert _close(http, site, "/trial/", closed=False).json()["thread"]["closed"] is False
    assert ben.page("/trial/")["thread"]["closed"] is False
    assert ben.post("/trial/", "After the order was lifted.").status_code == 201
    audit = http.get("/api/moderation/audit", params={"site": site}, headers=STAFF).json()
    entries = [(e["action"], e["target"], e["reason"]) for e in audit["entries"]
               if e["target"].startswith("thread:")]
    thread_id = page["thread"]["id"]
    assert entries == [("reopen", f"thread:{thread_id}", "court order"),
                       ("close", f"thread:{thread_id}", "court order")]


def test_only_the_sites_staff_close_its_discussions(
        mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver)
    assert Reader("Ana", http, site).post("/mine/", "A comment.").status_code == 201
    assert _close(http, site, "/mine/", headers={}).status_code == 401
    assert _close(http, site, "/nowhere/").status_code == 404
    assert http.post("/api/moderation/threads/close", headers=STAFF, json={
        "site": site, "thread": "/mine/", "closed": "maybe"}).status_code == 422


def test_open_pages_hear_that_the_discussion_closed(
        mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver)
    assert Reader("Ana", http, site).post("/live/", "A comment.").status_code == 201
    stream = Stream(mserver.url, site, "/live")
    try:
        assert _close(http, site, "/live/").status_code == 200
        within(5, lambda: {"thread": "/live", "closed": True} in stream.data)
        assert _close(http, site, "/live/", closed=False).status_code == 200
        within(5, lambda: {"thread": "/live", "closed": False} in stream.data)
        # Nothing a page would answer with a fetch of the thread.
        assert all(set(e) != {"thread"} for e in stream.data), stream.data
    finally:
        stream.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pages_on_another_server_hear_it_over_the_bus(transport: str) -> None:
    with two_servers(**bus_overrides(transport)) as (a, b), a.client() as ha, \
            b.client() as hb:
        site = a.add_site("closing", [ORIGIN])
        within(1, lambda: b.services.sites.get(site) is not None)
        assert Reader("Ana", ha, site).post("/story", "On A.").status_code == 201
        bob = Reader("Bob", hb, site)
        within(2, lambda: bob.page("/story")["comments"])  # B has it cached
        stream = Stream(b.url, site, "/story")
        try:
            answer = _close(ha, site, "/story", headers={"Authorization": f"Bearer {ADMIN}"})
            assert answer.status_code == 200, answer.text
            within(2, lambda: {"thread": "/story", "closed": True} in stream.data)
            assert bob.page("/story")["thread"]["closed"] is True
            refused = bob.post("/story", "Posted on B after A closed it.")
            assert refused.status_code == 403 and refused.json()["code"] == "thread_closed"
        finally:
            stream.close()
