""""Not me": the one-click unsubscribe of a confirmation email stops strangers from
asking that address to confirm more subscriptions on that site, until its reader
subscribes themselves (signed in with the address verified, or from a confirmation
link). A real server, a real SMTP server (aiosmtpd), SQLite and PostgreSQL."""

from __future__ import annotations

from email.message import EmailMessage

import httpx

from rostra.services.sessions import SignInMethod
from tests.notify.conftest import NotifyServer, address, parts, unsubscribe_header
from tests.notify.test_email_flow import deliver


def _confirmations(notify: NotifyServer, mail: str) -> list[EmailMessage]:
    return [m for m in notify.mailbox.to(mail) if "confirm" in m["Subject"].lower()]


def not_me(http: httpx.Client, message: EmailMessage) -> None:
    """The mail client's one-click "Unsubscribe" (RFC 8058) on a confirmation email."""
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    answer = http.post(unsubscribe_header(message), content=b"List-Unsubscribe=One-Click",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200, answer.text


def test_not_me_stops_further_confirmations_from_that_site(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, other_site, victim = notify.new_site(), notify.new_site(), address()
    with notify.live.client() as stranger:
        notify.subscribe(stranger, site, "/planted/", victim)
        deliver(notify, later=False)
        [asked] = _confirmations(notify, victim)
        not_me(http, asked)

        # The stranger asks again, now and later: the answer is the same as ever
        # (nothing tells them), and no email goes out, an hour on or more.
        for i in range(3):
            answer = notify.subscribe(stranger, site, f"/planted-again-{i}/", victim)
            assert answer.json()["status"] == "accepted"
            deliver(notify, later=False)
            deliver(notify)
        assert len(notify.mailbox.to(victim)) == 1

        # Another site's form still asks (the reader said "not me" to that one site).
        notify.subscribe(stranger, other_site, "/elsewhere/", victim)
        deliver(notify, later=False)
        deliver(notify)
        assert len(_confirmations(notify, victim)) == 2
        assert "/elsewhere" in parts(_confirmations(notify, victim)[-1])[0]


def test_the_reader_lifts_it_by_subscribing_signed_in(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, victim = notify.new_site(), address()
    notify.subscribe(http, site, "/planted/", victim)
    deliver(notify, later=False)
    not_me(http, _confirmations(notify, victim)[0])

    # The reader themselves, signed in with the address verified: subscribed at once,
    # and the site's form may ask them about more again.
    accounts = notify.live.services.accounts
    me = accounts.sign_in(site, f"email:{victim}", "Vic", victim, email_verified=True)
    session = accounts.session_for(site, me, SignInMethod.EMAIL)
    answer = notify.subscribe(http, site, "/mine/", victim, headers={"X-Rostra-Session": session})
    assert answer.json() == {"status": "subscribed"}
    notify.subscribe(http, site, "/another-of-mine/", victim)
    deliver(notify, later=False)
    deliver(notify)
    assert len(_confirmations(notify, victim)) == 2
    assert "/another-of-mine" in parts(_confirmations(notify, victim)[-1])[0]
