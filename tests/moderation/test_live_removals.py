"""A comment a moderator takes down leaves the pages open on its thread at once: their
live stream names it (``removed``), on the server that decided and, over the change bus,
on the others. Before, pages heard a bare "changed", fetched only what was new, and kept
showing the removed comment until the reader reloaded."""

from __future__ import annotations

import httpx
import pytest

from rostra.store.changes import Change, ChangeKind
from tests.api.test_change_bus import ADMIN, Stream, two_servers, within
from tests.conftest import ORIGIN, LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site


def _removals(stream: Stream) -> list[int]:
    return [i for data in list(stream.data) for i in data.get("removed", ())]


def test_open_pages_hear_which_comments_were_taken_down(
        mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    kept = ana.post("/story", "A comment that stays up.").json()["comment"]["id"]
    texts = ("Rude words a moderator rejects.", "Cheap pills, a link, spam.",
             "Something the moderator deletes for good.")
    ids = [Reader(name, http, site).post("/story", text).json()["comment"]["id"]
           for name, text in zip(("Bob", "Cid", "Dan"), texts, strict=True)]
    stream = Stream(mserver.url, site, "/story")
    try:
        for action, comment_id in zip(("reject", "spam", "delete"), ids, strict=True):
            answer = http.post(f"/api/moderation/comments/{comment_id}/{action}",
                               headers=STAFF, json={})
            assert answer.status_code == 200, answer.text
        within(5, lambda: sorted(set(_removals(stream))) == sorted(ids))
        # A decision that publishes takes nothing down: no removal for it.
        answer = http.post(f"/api/moderation/comments/{kept}/approve", headers=STAFF, json={})
        assert answer.status_code == 200, answer.text
    finally:
        stream.close()
    assert kept not in _removals(stream)


@pytest.mark.postgres
@pytest.mark.parametrize("transport", ["postgresql", "redis"])
def test_pages_on_another_server_hear_it_over_the_bus(transport: str) -> None:
    from tests.api.test_change_bus import bus_overrides

    with two_servers(**bus_overrides(transport)) as (a, b), a.client() as ha:
        site = a.add_site("gone", [ORIGIN])
        within(1, lambda: b.services.sites.get(site) is not None)
        # Posted on A too: B may know of the site a moment before it knows its origins.
        posted = Reader("Ana", ha, site).post("/story", "Taken down on A, open on B.")
        assert posted.status_code == 201, posted.text
        comment_id = posted.json()["comment"]["id"]
        stream = Stream(b.url, site, "/story")
        try:
            answer = ha.post(f"/api/moderation/comments/{comment_id}/reject",
                             headers={"Authorization": f"Bearer {ADMIN}"}, json={})
            assert answer.status_code == 200, answer.text
            within(5, lambda: comment_id in _removals(stream))
        finally:
            stream.close()


def test_a_change_carries_its_removals_across_the_bus_and_reads_older_messages() -> None:
    change = Change(ChangeKind.THREAD, "s", "/story", 3, None, (), (7, 9))
    assert Change.from_json(change.to_json()) == change
    both = Change(ChangeKind.THREAD, "s", "/story", 3, None, (11,), (7,))
    assert Change.from_json(both.to_json()) == both
    # A message from a process that knows nothing of removals reads as before.
    assert Change.from_json(["thread", "s", "/story", 3, None, [11]]).removed == ()
    assert Change(ChangeKind.THREAD, "s", "/story", 3).to_json() == [
        "thread", "s", "/story", 3, None]
