"""Which SMTP refusals silence a reader's address. Only one about the recipient does (a
5xx to RCPT, or a DATA reply whose enhanced status is about the mailbox: 5.1.x, 5.2.1,
5.2.2). Our own relay refusing the sender, the size or the content once marked the
reader bounced for good; now it fails that message (or, for the sender, retries it)
and leaves the address alone. A bounced reader who subscribes again gets a fresh
confirmation, and confirming ends the bounce."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from rostra.services.sessions import SignInMethod
from rostra.store.notify_tables import notify_addresses, notify_outbox, notify_subscriptions
from tests.conftest import free_port
from tests.notify.conftest import (
    BACKENDS,
    Handler,
    Mailbox,
    NotifyServer,
    Page,
    _server,
    address,
    confirm_address,
    link,
    parts,
)
from tests.notify.test_email_flow import deliver, subscribed


class Relay(Handler):
    """Our own relay, which can be told to refuse MAIL FROM or DATA for everyone."""

    def __init__(self, box: Mailbox) -> None:
        super().__init__(box)
        self.mail_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, mail_options: list[str]) -> str:
        if self.mail_reply:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module", params=BACKENDS)
def relay(request: pytest.FixtureRequest) -> Iterator[tuple[NotifyServer, Relay]]:
    box, port = Mailbox(), free_port()
    handler = Relay(box)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for notify in _server(request.param, (box, port), worker=False,
                              notify_batch_seconds=3600):
            yield notify, handler
    finally:
        controller.stop()


def _address(notify: NotifyServer, mail: str) -> Any:
    with notify.live.services.db.read() as conn:
        return conn.execute(select(notify_addresses)
                            .where(notify_addresses.c.email == mail)).one()


def _digests(notify: NotifyServer, mail: str) -> list[Any]:
    with notify.live.services.db.read() as conn:
        return list(conn.execute(select(notify_outbox).where(
            notify_outbox.c.recipient == mail, notify_outbox.c.kind == "digest")
            .order_by(notify_outbox.c.id)))


def _texts(notify: NotifyServer, mail: str) -> list[str]:
    return [parts(m)[0] for m in notify.mailbox.to(mail)
            if "confirm" not in str(m["Subject"]).lower()]


@pytest.mark.parametrize("where, reply", [
    ("mail", "550 5.7.1 Sender address rejected: not owned by user"),
    ("data", "552 5.3.4 Message size exceeds fixed limit"),
    ("data", "554 5.7.1 Message rejected as spam by content filter"),
    ("data", "554 Transaction failed"),  # no enhanced status code at all
], ids=["sender", "size", "content", "plain"])
def test_it_keeps_the_address_when_our_relay_refuses_the_message(
    relay: tuple[NotifyServer, Relay], where: str, reply: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    notify, handler = relay
    with notify.live.client() as http:
        site, mail = notify.new_site(), address()
        subscribed(notify, http, site, "/refused/", mail)
        assert notify.reader(http, site, "Ben").post("/refused/", "first").status_code == 201
        setattr(handler, f"{where}_reply", reply)
        try:
            with caplog.at_level(logging.INFO, logger="rostra.notify"):
                deliver(notify)
        finally:
            handler.mail_reply = handler.data_reply = None
        assert _address(notify, mail).bounced_at is None
        [digest] = _digests(notify, mail)
        assert reply in (digest.last_error or "")
        if where == "mail":
            # A refused sender is the operator's mistake (mail_from): said loudly, and
            # the message kept for after the fix.
            assert (digest.failed_at, digest.attempts) == (None, 1)
            assert any(r.levelno == logging.ERROR and "mail_from" in r.getMessage()
                       for r in caplog.records)
        else:  # this message will never pass; the next one may
            assert digest.failed_at is not None

        assert notify.reader(http, site, "Ben").post("/refused/", "second").status_code == 201
        deliver(notify)
    [text] = _texts(notify, mail)
    assert "second" in text
    assert ("first" in text) is (where == "mail")


@pytest.mark.parametrize("reply", ["550 5.1.1 Mailbox unavailable",
                                   "552 5.2.2 Mailbox full"], ids=["unknown", "full"])
def test_a_data_reply_about_the_mailbox_bounces_the_address(
    relay: tuple[NotifyServer, Relay], reply: str
) -> None:
    notify, handler = relay
    with notify.live.client() as http:
        site, mail = notify.new_site(), address()
        subscribed(notify, http, site, "/gone/", mail)
        assert notify.reader(http, site, "Ben").post("/gone/", "first").status_code == 201
        handler.data_reply = reply
        try:
            deliver(notify)
        finally:
            handler.data_reply = None
    row = _address(notify, mail)
    assert row.bounced_at is not None and reply in row.bounce_reason


def test_a_bounced_reader_who_subscribes_and_confirms_again_gets_mail_again(
    relay: tuple[NotifyServer, Relay]
) -> None:
    notify, _handler = relay
    with notify.live.client() as http:
        site, mail = notify.new_site(), address()
        subscribed(notify, http, site, "/back/", mail)
        ben = notify.reader(http, site, "Ben")
        assert ben.post("/back/", "while away").status_code == 201
        notify.mailbox.refuse[mail] = (550, "5.1.1 No such user")
        try:
            deliver(notify)
        finally:
            del notify.mailbox.refuse[mail]
        assert _address(notify, mail).bounced_at is not None

        # The mailbox is back. Subscribing again sends a fresh confirmation, and
        # nothing else until the reader confirms.
        mailed = len(notify.mailbox.to(mail))
        notify.subscribe(http, site, "/back/", mail)
        deliver(notify, later=False)
        [confirmation] = notify.mailbox.to(mail)[mailed:]
        assert "confirm" in str(confirmation["Subject"]).lower()
        assert ben.post("/back/", "not yet").status_code == 201
        deliver(notify)
        assert len(notify.mailbox.to(mail)) == mailed + 1

        confirm_address(http, confirmation)
        row = _address(notify, mail)
        assert (row.bounced_at, row.bounce_reason) == (None, None)
        assert row.confirmed_at is not None
        assert ben.post("/back/", "welcome back").status_code == 201
        deliver(notify)
    [text] = _texts(notify, mail)
    assert "welcome back" in text and "while away" not in text


def test_a_reader_whose_confirmation_bounced_can_ask_for_another_at_once(
    relay: tuple[NotifyServer, Relay]
) -> None:
    notify, _handler = relay
    with notify.live.client() as client:
        site, mail = notify.new_site(), address()
        notify.mailbox.refuse[mail] = (550, "5.1.1 No such user")
        try:
            notify.subscribe(client, site, "/typo/", mail)
            deliver(notify, later=False)
        finally:
            del notify.mailbox.refuse[mail]
        assert _address(notify, mail).bounced_at is not None
        # Within the hour that otherwise spaces confirmations: the first never arrived.
        notify.subscribe(client, site, "/typo/", mail)
        deliver(notify, later=False)
        [confirmation] = notify.mailbox.to(mail)
        # ...but only once per bounce.
        notify.subscribe(client, site, "/typo/", mail)
        deliver(notify, later=False)
        assert len(notify.mailbox.to(mail)) == 1
        confirm_address(client, confirmation)
    assert _address(notify, mail).bounced_at is None


def test_a_bounced_reader_confirms_again_the_subscription_they_had_confirmed(
    relay: tuple[NotifyServer, Relay]
) -> None:
    # Consent per subscription (a confirmed one asks nothing more) meets the bounce (a
    # bounced address must confirm again): re-subscribing to the confirmed thread brings
    # a confirmation that names it, and confirming it ends the bounce.
    notify, _handler = relay
    with notify.live.client() as http:
        site, mail = notify.new_site(), address()
        subscribed(notify, http, site, "/kept/", mail)
        ben = notify.reader(http, site, "Ben")
        assert ben.post("/kept/", "while away").status_code == 201
        notify.mailbox.refuse[mail] = (550, "5.1.1 No such user")
        try:
            deliver(notify)
        finally:
            del notify.mailbox.refuse[mail]
        assert _address(notify, mail).bounced_at is not None
        with notify.live.services.db.read() as conn:
            [(sub_id, was_confirmed)] = conn.execute(
                select(notify_subscriptions.c.id, notify_subscriptions.c.confirmed_at)
                .join(notify_addresses,
                      notify_addresses.c.id == notify_subscriptions.c.address_id)
                .where(notify_addresses.c.email == mail)).all()
        assert was_confirmed is not None

        mailed = len(notify.mailbox.to(mail))
        notify.subscribe(http, site, "/kept/", mail)
        deliver(notify, later=False)  # at once: the last confirmation predates the bounce
        [ask] = notify.mailbox.to(mail)[mailed:]
        assert "confirm" in str(ask["Subject"]).lower()
        assert "/kept" in parts(ask)[0]
        # Its page lists the subscription and shows the button, not "confirmed already".
        page = Page(http.get(link(ask, "/notify/confirm")).text)
        assert f"about-{sub_id}" in page.ids and "confirmed" not in page.ids
        assert "confirm" in page.ids

        confirm_address(http, ask)
        row = _address(notify, mail)
        assert (row.bounced_at, row.bounce_reason) == (None, None)
        assert row.confirmed_at is not None
        assert ben.post("/kept/", "welcome back").status_code == 201
        deliver(notify)
    [text] = _texts(notify, mail)
    assert "welcome back" in text and "while away" not in text


def test_a_signed_in_owner_of_a_bounced_address_is_asked_to_confirm_it_too(
    relay: tuple[NotifyServer, Relay]
) -> None:
    # Their verified address subscribes at once, but no mail reaches a bounced address:
    # subscribing must bring the confirmation that ends the bounce.
    notify, _handler = relay
    with notify.live.client() as http:
        site, mail = notify.new_site(), address()
        accounts = notify.live.services.accounts
        mila = accounts.sign_in(site, f"email:{mail}", "Mila", mail, email_verified=True)
        signed_in = {"X-Rostra-Session": accounts.session_for(site, mila, SignInMethod.EMAIL)}
        notify.subscribe(http, site, "/mine/", mail, headers=signed_in)
        ben = notify.reader(http, site, "Ben")
        assert ben.post("/mine/", "while away").status_code == 201
        notify.mailbox.refuse[mail] = (550, "5.1.1 No such user")
        try:
            deliver(notify)
        finally:
            del notify.mailbox.refuse[mail]
        assert _address(notify, mail).bounced_at is not None

        answer = notify.subscribe(http, site, "/mine/", mail, headers=signed_in)
        assert answer.json() == {"status": "subscribed"}
        deliver(notify, later=False)
        [ask] = notify.mailbox.to(mail)
        assert "confirm" in str(ask["Subject"]).lower() and "/mine" in parts(ask)[0]
        confirm_address(http, ask)
        assert _address(notify, mail).bounced_at is None
        assert ben.post("/mine/", "welcome back").status_code == 201
        deliver(notify)
    [text] = _texts(notify, mail)
    assert "welcome back" in text and "while away" not in text
