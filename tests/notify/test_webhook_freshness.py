"""A site's webhooks are kept in memory beside its settings: posting reads them once,
not in every transaction, and a webhook added or removed holds for the next comment,
here at once and in other processes once they hear of it (or within the sites' refresh)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event, insert, select

from rostra.store.notify_tables import notify_outbox, notify_webhooks
from tests.notify.conftest import ADMIN_TOKEN, NotifyServer, Receiver

STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _called_for(notify: NotifyServer, comment_id: int) -> list[int]:
    with notify.live.services.db.read() as conn:
        return list(conn.execute(select(notify_outbox.c.webhook_id).where(
            notify_outbox.c.channel == "webhook",
            notify_outbox.c.comment_id == comment_id)).scalars())


def _post(notify: NotifyServer, http: httpx.Client, site: str, text: str) -> int:
    response = notify.reader(http, site, "Ben").post("/fresh/", text)
    assert response.status_code == 201, response.text
    comment_id: int = response.json()["comment"]["id"]
    return comment_id


def test_posting_reads_a_sites_webhooks_once_not_per_transaction(
    notify: NotifyServer, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = notify.new_site()
    # (The sites, and the webhooks with them, are read again every REFRESH_SECONDS.)
    monkeypatch.setattr(notify.live.services.sites, "REFRESH_SECONDS", 3600)
    _post(notify, http, site, "The first comment reads the site's webhooks.")
    reads: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM notify_webhooks" in statement:
            reads.append(statement)

    engine = notify.live.services.db.engine
    sites = notify.live.services.sites
    # The server still reads the sites again on each of its polls (every 0.2 s here,
    # when no change bus tells it of changes): each such reload may read them once more.
    reloads_before = sites.generation()
    event.listen(engine, "before_cursor_execute", count)
    try:
        for i in range(10):
            _post(notify, http, site, f"Comment number {i} about the harbour bridge.")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    reloads = sites.generation() - reloads_before
    # A reload begun just before the count may not have read the webhooks yet: the
    # first post reads them for it (failed once under a full run's load).
    assert len(reads) <= reloads + 1, (reads, reloads)
    assert len(reads) < 10


def test_a_webhook_added_or_removed_holds_for_the_next_comment(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    site = notify.new_site()
    before = _post(notify, http, site, "Before any webhook: nobody is called.")
    added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                      json={"url": receiver.url})
    assert added.status_code == 201, added.text
    hook = added.json()["webhook"]["id"]
    after = _post(notify, http, site, "After the webhook: it is called.")
    assert _called_for(notify, before) == []
    # (Removing a webhook removes its undelivered calls: look before.)
    assert _called_for(notify, after) == [hook]
    removed = http.delete(f"/api/admin/sites/{site}/webhooks/{hook}", headers=STAFF)
    assert removed.status_code == 204, removed.text
    gone = _post(notify, http, site, "After removing it: nobody is called again.")
    assert _called_for(notify, gone) == []


def test_a_webhook_another_process_added_is_used_within_the_sites_refresh(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    sites = notify.live.services.sites
    monkeypatch.setattr(sites, "REFRESH_SECONDS", 0.2)
    site = notify.new_site()
    _post(notify, http, site, "This one reads the site's webhooks: none yet.")
    # Written as another process with no change bus to this one would (an operator's SQL).
    with notify.live.services.db.write() as conn:
        hook = conn.execute(insert(notify_webhooks).values(
            site_id=site, url=receiver.url, secret="", events=["comment.created"],
            active=True, created_at=datetime.now(UTC),
        ).returning(notify_webhooks.c.id)).scalar_one()
    time.sleep(0.3)
    later = _post(notify, http, site, "Once the sites were read again, it is called.")
    assert _called_for(notify, later) == [hook]


def test_a_webhook_another_process_removed_never_costs_a_comment(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    # This process has not heard of the removal (no change bus, the sites not reread):
    # the comment is stored all the same, and nothing is queued for the webhook.
    monkeypatch.setattr(notify.live.services.sites, "REFRESH_SECONDS", 3600)
    site = notify.new_site()
    added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                      json={"url": receiver.url})
    assert added.status_code == 201, added.text
    hook = added.json()["webhook"]["id"]
    first = _post(notify, http, site, "While the webhook is there: it is called.")
    assert _called_for(notify, first) == [hook]
    with notify.live.services.db.write() as conn:
        conn.execute(delete(notify_webhooks).where(notify_webhooks.c.id == hook))
    later = _post(notify, http, site, "After another process removed it: still stored.")
    assert _called_for(notify, later) == []
