"""The hourly cap on confirmation emails counts only those nobody answered: a reader who
confirms gets the next confirmation at once, for a second thread too, while a stranger
still gets one email an hour to an address out of the form. A real server, a real SMTP
server, SQLite and PostgreSQL."""

from __future__ import annotations

from email.message import EmailMessage

import httpx

from tests.notify.conftest import NotifyServer, address, confirm_address, parts
from tests.notify.test_email_flow import deliver


def _confirmations(notify: NotifyServer, mail: str, since: int = 0) -> list[EmailMessage]:
    return [m for m in notify.mailbox.to(mail)[since:] if "confirm" in m["Subject"].lower()]


def test_it_asks_a_reader_who_confirmed_one_thread_about_a_second_at_once(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    notify.subscribe(http, site, "/first-story/", mail)
    deliver(notify, later=False)
    [first] = _confirmations(notify, mail)
    confirm_address(http, first)

    # Minutes later, on another article: its confirmation leaves now, not an hour on.
    notify.subscribe(http, site, "/second-story/", mail)
    deliver(notify, later=False)
    [_, second] = _confirmations(notify, mail)
    assert "/second-story" in parts(second)[0]
    confirm_address(http, second)

    ben = notify.reader(http, site, "Ben")
    assert ben.post("/second-story/", "On the second story").status_code == 201
    deliver(notify)
    assert "On the second story" in parts(notify.mailbox.to(mail)[-1])[0]


def test_a_confirmation_waiting_for_the_hour_leaves_once_the_reader_confirms_the_last(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    notify.subscribe(http, site, "/story-a/", mail)
    deliver(notify, later=False)
    notify.subscribe(http, site, "/story-b/", mail)  # before the first email is answered
    deliver(notify, later=False)
    [first] = _confirmations(notify, mail)  # the second waits for the hour
    assert "/story-a" in parts(first)[0] and "/story-b" not in parts(first)[0]

    confirm_address(http, first)
    deliver(notify, later=False)
    [_, second] = _confirmations(notify, mail)
    assert "/story-b" in parts(second)[0] and "/story-a" not in parts(second)[0]


def test_answering_lets_one_more_email_through_not_a_flood(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, victim = notify.new_site(), address()
    notify.subscribe(http, site, "/own/", victim)
    deliver(notify, later=False)
    confirm_address(http, _confirmations(notify, victim)[0])

    with notify.live.client() as stranger:
        for i in range(5):
            notify.subscribe(stranger, site, f"/planted-{i}/", victim)
            deliver(notify, later=False)
    # One email now (the reader answered the last); the rest wait for the hour, together.
    assert len(_confirmations(notify, victim)) == 2
    deliver(notify)
    assert len(_confirmations(notify, victim)) == 3
    deliver(notify)
    assert len(notify.mailbox.to(victim)) == 3


def test_a_reader_who_ends_a_bounce_is_asked_about_a_further_thread_at_once(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    notify.subscribe(http, site, "/kept/", mail)
    deliver(notify, later=False)
    confirm_address(http, _confirmations(notify, mail)[0])
    assert notify.reader(http, site, "Ben").post("/kept/", "while away").status_code == 201
    notify.mailbox.refuse[mail] = (550, "5.1.1 Mailbox full for a while")
    try:
        deliver(notify)  # the digest bounces
    finally:
        del notify.mailbox.refuse[mail]
    # Back: subscribing again asks to confirm the subscription kept, and that ends the
    # bounce (it confirms no new subscription, but it is an answer all the same).
    notify.subscribe(http, site, "/kept/", mail)
    deliver(notify, later=False)
    confirm_address(http, _confirmations(notify, mail)[-1])
    count = len(_confirmations(notify, mail))

    notify.subscribe(http, site, "/another/", mail)
    deliver(notify, later=False)
    assert len(_confirmations(notify, mail)) == count + 1
    assert "/another" in parts(_confirmations(notify, mail)[-1])[0]
