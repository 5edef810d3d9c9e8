"""Announcing new comments to subscribers with email on, as a posting batch stores them:
each comment cost four statements of its own (was it announced before, mark it, read it
back, its thread's subscribers), each a round trip on PostgreSQL, and posting ran at
less than half its speed with email on. A new comment was never announced before; its
mark goes with the commit; the thread's subscribers are read once a batch; and the
comment is read back only when somebody is to be told. Webhook calls, announcements and
statements of reasons are made from the rows the batch wrote, not read back."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from rostra.core.thread_keys import thread_key as thread_key_of
from rostra.notify.tokens import AddressClaim
from rostra.services.comments import NewComment, Posted, RequestContext
from rostra.store.notify_tables import notify_addresses, notify_announced, notify_outbox
from tests.conftest import ORIGIN, RoundTrips
from tests.notify.conftest import NotifyServer, Receiver, address
from tests.notify.test_webhooks import STAFF

pytestmark = pytest.mark.postgres


def _item(site: str, thread: str, text: str) -> tuple[NewComment, RequestContext]:
    return (NewComment(thread=thread, text=text, site=site, name="Ana"),
            RequestContext(origin=ORIGIN, ip="203.0.113.9"))


@pytest.mark.parametrize("notify", ["postgres"], indirect=True)
def test_a_batch_announces_its_comments_in_one_round_trip_more(notify: NotifyServer) -> None:
    site = notify.new_site()
    svc = notify.live.services.comments
    svc.post(*_item(site, "/quiet/", "the thread exists"))
    counted = []
    for attempt in range(3):  # the fewest: a periodic refresh may read the sites too
        trace = RoundTrips(notify.live.services.db)
        stored = svc.post_many([_item(site, "/quiet/", f"{attempt}: post {i}")
                                for i in range(4)])
        counted.append(trace.in_transactions())
        assert all(isinstance(result, Posted) for result in stored), stored
    # BEGIN, the INSERT and the thread's subscribers (none); counters, marks, COMMIT.
    # (Without email, one: tests/api/test_posting_commit.py.)
    assert min(len(trips) for trips in counted) == 2, counted
    with notify.live.services.db.read() as conn:
        marked = conn.scalar(select(func.count()).select_from(notify_announced))
    assert marked is not None and marked >= 13  # every comment marked as announced


@pytest.mark.parametrize("notify", ["postgres"], indirect=True)
def test_a_subscriber_still_hears_of_each_comment_of_a_batch(notify: NotifyServer) -> None:
    site, email = notify.new_site(), address()
    with notify.live.client() as client:
        notify.subscribe(client, site, "/followed/", email)
    with notify.live.services.db.read() as conn:
        address_id = conn.scalar(select(notify_addresses.c.id)
                                 .where(notify_addresses.c.email == email))
    assert notify.runtime.subscriptions.confirm(AddressClaim(address_id, email)) is not None
    svc = notify.live.services.comments
    stored = svc.post_many([_item(site, "/followed/", f"news {i}") for i in range(3)])
    ids = [result.comment["id"] for result in stored if isinstance(result, Posted)]
    assert len(ids) == 3
    with notify.live.services.db.read() as conn:
        queued = sorted(conn.execute(select(notify_outbox.c.comment_id).where(
            notify_outbox.c.recipient == email, notify_outbox.c.kind == "digest")).scalars())
        marked = sorted(conn.execute(select(notify_announced.c.comment_id).where(
            notify_announced.c.comment_id.in_(ids))).scalars())
    assert queued == ids and marked == ids


@pytest.mark.parametrize("held", [False, True], ids=["published", "held"])
def test_a_batch_on_a_site_with_a_webhook_reads_no_comment_back(
    notify: NotifyServer, receiver: Receiver, held: bool,
) -> None:
    # Its webhook calls, announcements and statements of reasons are made from the rows
    # the batch wrote (each read them back: a round trip a comment on PostgreSQL); the
    # thread is read once. The calls carry what the comments are.
    site = notify.new_site()
    with notify.live.client() as http:
        added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                          json={"url": receiver.url})
        assert added.status_code == 201, added.text
    if held:
        notify.holds.sites.add(site)
    svc = notify.live.services.comments
    svc.post(*_item(site, "/hooked/", "the thread exists"))
    read_back: list[str] = []

    def watch(conn: object, cursor: object, statement: str, *args: object) -> None:
        flat = " ".join(statement.split())
        if ("FROM comments WHERE comments.id =" in flat
                or "FROM threads WHERE threads.id =" in flat):
            read_back.append(flat)

    event.listen(notify.live.services.db.engine, "before_cursor_execute", watch)
    try:
        stored = svc.post_many([_item(site, "/hooked/", f"hooked {i}") for i in range(4)])
    finally:
        event.remove(notify.live.services.db.engine, "before_cursor_execute", watch)
    assert all(isinstance(result, Posted) for result in stored), stored
    assert len([s for s in read_back if "FROM threads" in s]) <= 1
    assert [s for s in read_back if "FROM comments" in s] == []
    ids = [result.comment["id"] for result in stored if isinstance(result, Posted)]
    with notify.live.services.db.read() as conn:
        calls = conn.execute(select(notify_outbox.c.comment_id, notify_outbox.c.payload)
                             .where(notify_outbox.c.comment_id.in_(ids),
                                    notify_outbox.c.kind == "webhook")
                             .order_by(notify_outbox.c.comment_id)).all()
    assert [call.comment_id for call in calls] == ids
    for call, i in zip(calls, range(4), strict=True):
        body = call.payload
        assert body["comment"]["text"] == f"hooked {i}"
        assert body["comment"]["state"] == ("pending" if held else "approved")
        assert body["comment"]["author"]["name"] == "Ana"
        assert body["thread"]["key"] == thread_key_of("/hooked/")
