"""The outbox keeps sent and given-up messages for `notify_outbox_retention_days`, then
the worker deletes them (webhook bodies hold commenters' names and words, emails
readers' addresses); on SQLite and PostgreSQL. Messages not sent yet stay however old,
the admin still lists recent failed alerts, and a comment approved long ago is still
announced once."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from rostra.core.models import CommentState
from rostra.notify.model import MessageKind
from rostra.services.notify_worker import Worker
from rostra.store.notify_tables import notify_outbox
from tests.conftest import statements_on
from tests.notify.conftest import ADMIN_TOKEN, NotifyServer, Receiver, address
from tests.notify.test_email_flow import deliver, subscribed
from tests.notify.test_worker_command import ROSTRA, _environment

STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DAY = timedelta(days=1)


def _hooked_site(notify: NotifyServer, http: httpx.Client, receiver: Receiver) -> str:
    site = notify.new_site()
    added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                      json={"url": receiver.url, "events": ["comment.created"]})
    assert added.status_code == 201, added.text
    return site


def _calls_about(notify: NotifyServer, comment_id: int) -> list[Any]:
    with notify.live.services.db.read() as conn:
        return list(conn.execute(select(notify_outbox).where(
            notify_outbox.c.comment_id == comment_id,
            notify_outbox.c.kind == MessageKind.WEBHOOK.value)).all())


def _posted_and_called(notify: NotifyServer, http: httpx.Client, site: str,
                       text: str) -> Any:
    """Post a comment and let a worker make its webhook call; the call's outbox row."""
    posted = notify.reader(http, site, "Ben").post("/kept/", text)
    assert posted.status_code == 201, posted.text
    notify.run(notify.worker(retry_base_seconds=30).run_once())
    [row] = _calls_about(notify, posted.json()["comment"]["id"])
    return row


def _age(notify: NotifyServer, ids: Iterable[int], by: timedelta, **values: Any) -> None:
    """Move the rows' story ``by`` into the past, as if they were that old."""
    with notify.live.services.db.write() as conn:
        for row in conn.execute(select(notify_outbox).where(
                notify_outbox.c.id.in_(list(ids)))).all():
            moved = {name: getattr(row, name) - by
                     for name in ("created_at", "due_at", "sent_at", "failed_at")
                     if getattr(row, name) is not None}
            conn.execute(update(notify_outbox).where(notify_outbox.c.id == row.id)
                         .values(**{**moved, **values}))


def _present(notify: NotifyServer, ids: Iterable[int]) -> set[int]:
    with notify.live.services.db.read() as conn:
        return set(conn.execute(select(notify_outbox.c.id).where(
            notify_outbox.c.id.in_(list(ids)))).scalars())


async def _run_until(worker: Worker, condition: Callable[[], bool],
                     timeout: float = 20.0) -> None:
    """Run the worker's loop, as `rostra worker` does, until ``condition`` holds."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = time.monotonic() + timeout
    try:
        while not await asyncio.to_thread(condition):
            if time.monotonic() > deadline or task.done():
                raise AssertionError("the worker's loop did not get there")
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task


def test_it_deletes_sent_and_failed_messages_past_the_retention_and_keeps_the_rest(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    site = _hooked_site(notify, http, receiver)
    receiver.statuses = [200, 410, 503, 200, 200]
    sent_old = _posted_and_called(notify, http, site, "Sent long ago")
    failed_old = _posted_and_called(notify, http, site, "Refused long ago")
    retrying = _posted_and_called(notify, http, site, "Still trying")
    sent_lately = _posted_and_called(notify, http, site, "Sent lately")
    sent_now = _posted_and_called(notify, http, site, "Sent just now")
    assert sent_old.sent_at is not None and failed_old.failed_at is not None
    assert retrying.sent_at is None and retrying.failed_at is None and retrying.attempts == 1

    _age(notify, [sent_old.id, failed_old.id], 40 * DAY)
    _age(notify, [sent_lately.id], 20 * DAY)
    # Queued forty days ago, its receiver down since: it waits for its next try.
    _age(notify, [retrying.id], 40 * DAY,
         due_at=datetime.now(UTC) + timedelta(hours=5))

    everything = [r.id for r in (sent_old, failed_old, retrying, sent_lately, sent_now)]
    notify.run(_run_until(notify.worker(poll_seconds=0.05),
                          lambda: not _present(notify, [sent_old.id, failed_old.id])))
    assert _present(notify, everything) == {retrying.id, sent_lately.id, sent_now.id}


def test_it_deletes_a_backlog_in_chunks_of_their_own(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    site = _hooked_site(notify, http, receiver)
    rows = [_posted_and_called(notify, http, site, f"Call {n}") for n in range(7)]
    assert all(row.sent_at is not None for row in rows)
    _age(notify, [row.id for row in rows], 31 * DAY)

    worker = notify.worker(prune_chunk=3)
    with statements_on(notify.live, "notify_outbox") as seen:
        pruned = worker.prune()
    assert pruned >= 7
    assert _present(notify, [row.id for row in rows]) == set()
    deletes = [s for s in seen if s.lstrip().upper().startswith("DELETE")]
    assert len(deletes) >= 3  # 7 rows, 3 at a time


def test_it_keeps_failed_alerts_the_admin_lists_even_with_a_shorter_retention(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator = address()
    site = notify.new_site(moderation={"mode": "all"},
                           notifications={"moderator_emails": [moderator]})
    notify.mailbox.refuse[moderator] = (550, "5.1.1 Mailbox unavailable")
    try:
        ids = []
        for name in ("Ben", "Cy"):
            posted = notify.reader(http, site, name).post("/alerts/", f"Held for {name}")
            assert posted.status_code == 201, posted.text
            notify.run(notify.worker().run_once())
            with notify.live.services.db.read() as conn:
                ids.append(conn.execute(select(notify_outbox.c.id).where(
                    notify_outbox.c.comment_id == posted.json()["comment"]["id"],
                    notify_outbox.c.failed_at.is_not(None))).scalar_one())
    finally:
        del notify.mailbox.refuse[moderator]
    older, lately = ids
    _age(notify, [older], 20 * DAY)
    _age(notify, [lately], 5 * DAY)

    rt = notify.runtime
    settings = rt.settings.model_copy(update={"notify_outbox_retention_days": 1})
    Worker(settings, notify.live.services.db, rt.tokens).prune()
    assert _present(notify, ids) == {lately}
    [failure] = rt.staff_failures(site)
    assert failure["recipient"] == moderator and "550" in str(failure["error"])


def test_it_announces_a_comment_once_after_its_email_was_pruned(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/once/", mail)
    before = len(notify.mailbox.to(mail))
    posted = notify.reader(http, site, "Ben").post("/once/", "Old news")
    comment_id = posted.json()["comment"]["id"]
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == before + 1
    with notify.live.services.db.read() as conn:
        ids = list(conn.execute(select(notify_outbox.c.id).where(
            notify_outbox.c.recipient == mail)).scalars())
    _age(notify, ids, 60 * DAY)
    assert notify.worker().prune() >= len(ids)
    assert _present(notify, ids) == set()

    # Sent back to the queue by an edit and approved again, long after its email went.
    services = notify.live.services.comments
    services.set_state(comment_id, CommentState.PENDING, actor="mod")
    services.set_state(comment_id, CommentState.APPROVED, actor="mod")
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == before + 1


def test_it_prunes_in_rostra_worker_once(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver, tmp_path: Path
) -> None:
    site = _hooked_site(notify, http, receiver)
    old = _posted_and_called(notify, http, site, "Called long ago")
    kept = _posted_and_called(notify, http, site, "Called lately")
    _age(notify, [old.id], 31 * DAY)
    once = subprocess.run([*ROSTRA, "worker", "--once"], cwd=tmp_path,
                          env=_environment(notify), capture_output=True, text=True,
                          timeout=120)
    assert once.returncode == 0, once.stderr[-3000:]
    assert _present(notify, [old.id, kept.id]) == {kept.id}
