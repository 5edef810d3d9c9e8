"""An SMTP server that takes the recipient but refuses the message, and one that is not
there: a 5xx gives up on the message (the address is not silenced: the message was
refused, not the reader's mailbox), a 4xx and a missing server keep it for a retry."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from rostra.services.notify_worker import Worker
from rostra.store.notify_tables import notify_addresses, notify_outbox
from tests.conftest import ORIGIN, LiveServer, free_port, running_server


class RefusingData:
    """Takes every recipient; answers DATA with ``answer``."""

    answer = "250 Message accepted"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.answer


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[int, RefusingData]]:
    port, handler = free_port(), RefusingData()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler
    controller.stop()


def _server(port: int) -> Any:
    return running_server("sqlite", smtp_host="127.0.0.1", smtp_port=port,
                          smtp_security="none", mail_from="Comments <comments@news.example>",
                          worker=False, classifier="off")


def _confirmation_for(live: LiveServer) -> tuple[Any, Any]:
    """Subscribe a new address and run one worker pass over its confirmation email;
    (its outbox row, its address row)."""
    site = live.add_site("s" + secrets.token_hex(4), [ORIGIN])
    mail = f"r{secrets.token_hex(5)}@readers.example"
    with live.client() as http:
        subscribed = http.post("/api/subscriptions", headers={"Origin": ORIGIN}, json={
            "site": site, "thread": "/story/", "email": mail, "kind": "thread"})
        assert subscribed.status_code == 202, subscribed.text
    runtime = live.app.app.state.notify
    worker = Worker(runtime.settings, live.services.db, runtime.tokens)
    assert asyncio.run(worker.run_once()) == 1
    with live.services.db.read() as conn:
        row = conn.execute(select(notify_outbox).where(notify_outbox.c.recipient == mail)).one()
        address = conn.execute(select(notify_addresses)
                               .where(notify_addresses.c.email == mail)).one()
    return row, address


def test_a_message_refused_for_good_is_given_up_and_the_address_kept(
    smtp: tuple[int, RefusingData]
) -> None:
    port, handler = smtp
    handler.answer = "552 5.3.4 Message too big for system"
    try:
        with _server(port) as live:
            row, address = _confirmation_for(live)
    finally:
        handler.answer = RefusingData.answer
    assert row.failed_at is not None and row.sent_at is None
    assert row.last_error == "SMTP 552 5.3.4 Message too big for system"
    assert address.bounced_at is None


def test_a_message_refused_for_now_is_kept_for_a_retry(smtp: tuple[int, RefusingData]) -> None:
    port, handler = smtp
    handler.answer = "451 4.3.0 Mailbox busy, try again later"
    try:
        with _server(port) as live:
            row, address = _confirmation_for(live)
    finally:
        handler.answer = RefusingData.answer
    assert (row.failed_at, row.sent_at, row.attempts) == (None, None, 1)
    assert row.last_error == "SMTP 451 4.3.0 Mailbox busy, try again later"
    assert row.due_at > row.created_at
    assert address.bounced_at is None


def test_a_missing_smtp_server_keeps_the_message_for_a_retry() -> None:
    with _server(free_port()) as live:  # nothing listens there
        row, address = _confirmation_for(live)
    assert (row.failed_at, row.sent_at, row.attempts) == (None, None, 1)
    assert row.last_error.startswith("SMTP: ")
    assert address.bounced_at is None
