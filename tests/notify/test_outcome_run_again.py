"""Recording what became of a batch (sent, to retry, given up) survives a deadlock or a
connection lost on its statement (a PostgreSQL restart or failover). It ran once: the
error escaped the worker, the rows stayed claimed, and another worker sent the message
again once the lease ran out. It now runs again (after a COMMIT lost with its
connection too: recorded twice is recorded once)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from rostra.store.notify_tables import notify_addresses, notify_outbox
from tests.conftest import CONNECTION_LOST, DEADLOCK, first_try_fails
from tests.notify.conftest import NotifyServer, address
from tests.notify.test_email_flow import LATER, subscribed

pytestmark = pytest.mark.postgres

# What the SMTP server answers, and the change of the outbox row that records it.
OUTCOMES = {
    "sent": (None, "OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL"),
    "retried": ((451, "4.3.0 Try again later"),
                "OLD.claimed_by IS NOT NULL AND NEW.claimed_by IS NULL"),
    "given up": ((550, "5.1.1 No such user"),
                 "OLD.failed_at IS NULL AND NEW.failed_at IS NOT NULL"),
}


@pytest.mark.parametrize("notify", ["postgres"], indirect=True)
@pytest.mark.parametrize("failure, at_commit", [
    (DEADLOCK, False), (CONNECTION_LOST, False), (CONNECTION_LOST, True)],
    ids=["deadlock", "lost on the statement", "lost at commit"])
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_recording_a_batch_runs_again(notify: NotifyServer, http: httpx.Client,
                                      outcome: str, failure: str, at_commit: bool) -> None:
    refusal, condition = OUTCOMES[outcome]
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/again/", mail)
    mailed = len(notify.mailbox.to(mail))
    assert notify.reader(http, site, "Ben").post("/again/", "hello").status_code == 201
    later = datetime.now(UTC) + LATER
    if refusal:
        notify.mailbox.refuse[mail] = refusal
    try:
        with first_try_fails(notify.live, "UPDATE", condition, failure=failure,
                             table="notify_outbox", at_commit=at_commit) as tried:
            assert notify.run(notify.worker().run_once(now=later)) == 1
            assert tried() == 2
    finally:
        notify.mailbox.refuse.pop(mail, None)
    with notify.live.services.db.read() as conn:
        [row] = conn.execute(select(notify_outbox).where(
            notify_outbox.c.recipient == mail, notify_outbox.c.kind == "digest")).all()
        bounced = conn.execute(select(notify_addresses.c.bounced_at)
                               .where(notify_addresses.c.email == mail)).scalar()
    assert (row.sent_at is not None, row.failed_at is not None, row.claimed_at is not None,
            bounced is not None) == {"sent": (True, False, True, False),
                                     "retried": (False, False, False, False),
                                     "given up": (False, True, True, True)}[outcome]
    assert row.attempts == (0 if outcome == "sent" else 1)  # counted once
    # A worker that takes over every claim at once finds nothing to send twice; the
    # retry goes out once.
    again = notify.run(notify.worker(lease_seconds=0).run_once(now=later))
    assert again == (1 if outcome == "retried" else 0)
    assert len(notify.mailbox.to(mail)) - mailed == (0 if outcome == "given up" else 1)
