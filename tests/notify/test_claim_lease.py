"""A claim's lease runs from when the batch was claimed. A worker stamped every claim
with the moment its pass began, so a batch claimed late in a long pass already looked
stale to the other workers, and one of them sent it again while it was being sent."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import update

from rostra.store.notify_tables import notify_outbox
from tests.conftest import free_port
from tests.notify.conftest import BACKENDS, Handler, Mailbox, NotifyServer, _server, address
from tests.notify.test_email_flow import subscribed


class Gate(Handler):
    """Holds the next message at DATA until the test lets it through."""

    def __init__(self, box: Mailbox) -> None:
        super().__init__(box)
        self.holding = False
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.holding:
            self.holding = False
            self.arrived.set()
            await asyncio.to_thread(self.release.wait, 20)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module", params=BACKENDS)
def gated(request: pytest.FixtureRequest) -> Iterator[tuple[NotifyServer, Gate]]:
    box, port = Mailbox(), free_port()
    gate = Gate(box)
    controller = Controller(gate, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for notify in _server(request.param, (box, port), worker=False,
                              notify_batch_seconds=0):
            yield notify, gate
    finally:
        controller.stop()


def test_a_batch_claimed_late_in_a_long_pass_is_not_sent_again(
    gated: tuple[NotifyServer, Gate]
) -> None:
    notify, gate = gated
    mail = address()
    with notify.live.client() as http:
        site = notify.new_site()
        subscribed(notify, http, site, "/lease/", mail)
        assert notify.reader(http, site, "Ben").post("/lease/", "hello").status_code == 201
    confirmations = len(notify.mailbox.to(mail))
    # A pass that began an hour ago, its earlier batches having taken that long, comes
    # to this digest (due by then) and claims it now.
    began = datetime.now(UTC) - timedelta(hours=1)
    with notify.live.services.db.write() as conn:
        conn.execute(update(notify_outbox).where(
            notify_outbox.c.recipient == mail, notify_outbox.c.sent_at.is_(None))
            .values(due_at=began))
    slow, other = notify.worker(worker_id="slow"), notify.worker(worker_id="other")
    gate.holding = True

    async def race() -> tuple[int, int]:
        sending = asyncio.create_task(slow.run_once(now=began))
        try:
            assert await asyncio.to_thread(gate.arrived.wait, 20)
            # While the slow worker's message is at the SMTP server, well within its
            # five-minute lease, another worker looks for work.
            found = await other.run_once()
        finally:
            gate.release.set()
        return await sending, found

    try:
        assert notify.run(race()) == (1, 0)
    finally:
        gate.holding = False
        gate.arrived.clear()
        gate.release.clear()
    assert len(notify.mailbox.to(mail)) - confirmations == 1
