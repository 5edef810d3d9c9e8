"""Delivery that loses nothing: restarts, several workers, the in-process worker."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update

from rostra.store.notify_tables import notify_outbox
from tests.notify.conftest import NotifyServer, address, confirm_address, parts, wait_for
from tests.notify.test_email_flow import LATER, deliver, subscribed


def _comments_in(notify: NotifyServer, mail: str) -> list[str]:
    """Every comment text mailed to ``mail``, in the order received."""
    found = []
    for message in notify.mailbox.to(mail):
        text, _html = parts(message)
        found += [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    return found


def _setup(notify: NotifyServer, http: httpx.Client, readers: int, comments: int
           ) -> tuple[list[str], list[str]]:
    site = notify.new_site()
    mails = [address() for _ in range(readers)]
    for mail in mails:
        subscribed(notify, http, site, "/restart/", mail)
    openers = ["Interesting point about the budget", "I visited that town last summer",
               "The second paragraph surprised me", "My neighbour works at the harbour"]
    texts = [f"#{n} {openers[n % len(openers)]} ({secrets.token_hex(3)})"
             for n in range(comments)]
    ben = notify.reader(http, site, "Ben")
    for text in texts:
        response = ben.post("/restart/", text)
        assert response.status_code == 201, response.text
        assert response.json()["comment"]["state"] == "approved"
    return mails, texts


def _pending(notify: NotifyServer) -> int:
    with notify.live.services.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(notify_outbox).where(
            notify_outbox.c.sent_at.is_(None), notify_outbox.c.failed_at.is_(None))).scalar())


def test_it_loses_and_doubles_nothing_when_a_worker_dies_mid_batch(
    notify: NotifyServer, http: httpx.Client
) -> None:
    deliver(notify)  # start from an empty outbox
    mails, texts = _setup(notify, http, readers=5, comments=3)
    at = datetime.now(UTC) + LATER

    first = notify.worker(lease_seconds=600)
    assert notify.run(first.run_once(max_batches=2, now=at)) == 2
    # The first worker claims the next batch and dies before sending it.
    keys = first._due(at, 10)
    assert first.claim(keys[0])
    dead = first.worker_id
    del first

    second = notify.worker(lease_seconds=600)
    assert notify.run(second.run_once(now=at)) == 2  # the dead worker's batch waits
    # The claim is eleven minutes old (a lease runs on the real clock, from the claim):
    with notify.live.services.db.write() as conn:
        conn.execute(update(notify_outbox).where(notify_outbox.c.claimed_by == dead)
                     .values(claimed_at=datetime.now(UTC) - timedelta(minutes=11)))
    assert notify.run(second.run_once(now=at)) == 1  # lease over
    for mail in mails:
        assert _comments_in(notify, mail) == texts, mail
    assert _pending(notify) == 0


def test_it_sends_each_message_once_with_several_workers(
    notify: NotifyServer, http: httpx.Client
) -> None:
    # One moment for both passes: whatever of earlier tests falls due before it (a retry
    # put off, say) goes in the first, and the race handles this test's messages alone.
    at = datetime.now(UTC) + LATER
    notify.run(notify.worker().run_once(now=at))
    mails, texts = _setup(notify, http, readers=12, comments=2)
    workers = [notify.worker(batch_limit=100) for _ in range(4)]

    async def race() -> list[int]:
        return list(await asyncio.gather(*(w.run_once(now=at) for w in workers)))

    handled = notify.run(race())
    with notify.live.services.db.read() as conn:
        errors = conn.execute(select(notify_outbox.c.batch_key, notify_outbox.c.last_error)
                              .where(notify_outbox.c.last_error.is_not(None),
                                     notify_outbox.c.recipient.in_(mails))).all()
    assert errors == []
    assert sum(handled) == 12
    for mail in mails:
        with notify.live.services.db.read() as conn:
            rows = conn.execute(select(notify_outbox.c.id, notify_outbox.c.comment_id,
                                       notify_outbox.c.claimed_by, notify_outbox.c.sent_at,
                                       notify_outbox.c.batch_key)
                                .where(notify_outbox.c.recipient == mail)).all()
        assert _comments_in(notify, mail) == texts, (mail, rows, len(notify.mailbox.to(mail)))


def test_it_releases_claims_when_the_worker_is_stopped(
    notify: NotifyServer, http: httpx.Client
) -> None:
    deliver(notify)
    mails, texts = _setup(notify, http, readers=3, comments=1)
    at = datetime.now(UTC) + LATER

    async def stop_during_send() -> None:
        worker = notify.worker()
        stopped = asyncio.Event()

        class Stuck:
            async def send(self, message: object, recipient: str) -> None:
                stopped.set()
                await asyncio.Event().wait()  # a server that never answers

        worker.mail = Stuck()
        task = asyncio.create_task(worker.run_once(now=at))
        await stopped.wait()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    notify.run(stop_during_send())
    # The interrupted batch was handed back, so a new worker sends it at once.
    assert notify.run(notify.worker().run_once(now=at)) == 3
    for mail in mails:
        assert _comments_in(notify, mail) == texts


def test_it_delivers_from_the_worker_inside_the_server(notify_auto: NotifyServer) -> None:
    site, mail = notify_auto.new_site(), address()
    with notify_auto.live.client() as http:
        notify_auto.subscribe(http, site, "/live/", mail)
        confirmation = wait_for(lambda: notify_auto.mailbox.to(mail), what="confirmation")[0]
        confirm_address(http, confirmation)
        ben = notify_auto.reader(http, site, "Ben")
        assert ben.post("/live/", "Straight to your inbox").status_code == 201
        wait_for(lambda: len(notify_auto.mailbox.to(mail)) == 2, what="digest")
    assert "Straight to your inbox" in parts(notify_auto.mailbox.to(mail)[1])[0]
