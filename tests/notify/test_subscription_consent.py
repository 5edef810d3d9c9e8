"""Double opt-in is per subscription: a confirmed address does not let a stranger
subscribe it to anything. A real server, a real SMTP server, SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from rostra.services.sessions import SignInMethod
from rostra.store.notify_tables import notify_addresses
from tests.conftest import ORIGIN
from tests.notify.conftest import NotifyServer, Page, address, confirm_address, link, parts
from tests.notify.test_email_flow import deliver, subscribed


def _confirmations(notify: NotifyServer, mail: str, since: int) -> list[object]:
    return [m for m in notify.mailbox.to(mail)[since:] if "confirm" in m["Subject"].lower()]


def test_it_asks_before_a_stranger_subscribes_a_confirmed_address_to_more_threads(
    notify: NotifyServer, http: httpx.Client
) -> None:
    mine, theirs, victim = notify.new_site(), notify.new_site(), address()
    subscribed(notify, http, mine, "/one/", victim)  # the victim's own, confirmed
    before = len(notify.mailbox.to(victim))
    with notify.live.client() as stranger:
        for i in range(20):
            notify.subscribe(stranger, theirs, f"/t{i}/", victim, language="de")
    ben = notify.reader(http, theirs, "Ben")
    for i in range(20):
        assert ben.post(f"/t{i}/", f"Comment {i}").status_code == 201
    assert notify.reader(http, mine, "Ben").post("/one/", "On the wanted one").status_code == 201
    deliver(notify)

    new = notify.mailbox.to(victim)[before:]
    # One confirmation (the hourly cap gathers the rest into it) and the one wanted digest.
    assert len(new) == 2, [m["Subject"] for m in new]
    [ask] = [m for m in new if "confirm" in m["Subject"].lower()]
    [digest] = [m for m in new if m is not ask]
    text, _html = parts(ask)
    # In the victim's language (English), not the stranger's, naming what it is about.
    assert ask["Content-Language"] == "en" and "/t0" in text and "/one" not in text
    assert "On the wanted one" in parts(digest)[0]
    assert not any(f"Comment {i}" in parts(digest)[0] for i in range(20))
    with notify.live.services.db.read() as conn:
        stored = conn.scalar(select(notify_addresses.c.language)
                             .where(notify_addresses.c.email == victim))
    assert stored == "en"  # a stranger cannot change it

    # The victim may want them after all: confirming that email activates exactly those.
    confirm_address(http, ask)
    assert ben.post("/t3/", "Now wanted").status_code == 201
    deliver(notify)
    wanted = notify.mailbox.to(victim)[-1]
    assert "Now wanted" in parts(wanted)[0] and wanted["Content-Language"] == "en"


def test_confirming_the_wanted_subscription_leaves_planted_ones_off(
    notify: NotifyServer, http: httpx.Client
) -> None:
    mine, theirs, victim = notify.new_site(), notify.new_site(), address()
    with notify.live.client() as stranger:  # planted before the address was ever confirmed
        notify.subscribe(stranger, theirs, "/planted/", victim)
    deliver(notify, later=False)
    notify.subscribe(http, mine, "/wanted/", victim)
    deliver(notify)  # this one's confirmation waits for the hourly cap
    ask = notify.mailbox.to(victim)[-1]
    page = http.get(link(ask, "/notify/confirm"))
    shown = " ".join(v for k, v in Page(page.text).ids.items() if k.startswith("about"))
    assert "/wanted" in shown and "/planted" not in shown
    confirm_address(http, ask)

    count = len(notify.mailbox.to(victim))
    ben_theirs, ben_mine = notify.reader(http, theirs, "Ben"), notify.reader(http, mine, "Ben")
    assert ben_theirs.post("/planted/", "Planted thread").status_code == 201
    assert ben_mine.post("/wanted/", "Wanted thread").status_code == 201
    deliver(notify)
    [digest] = notify.mailbox.to(victim)[count:]
    assert "Wanted thread" in parts(digest)[0]


def test_it_caps_confirmation_emails_to_one_address_at_one_an_hour(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, victim = notify.new_site(), address()
    with notify.live.client() as stranger:
        notify.subscribe(stranger, site, "/flood-0/", victim)
        deliver(notify, later=False)
        for i in range(5):
            notify.subscribe(stranger, site, f"/flood-{i}/", victim)
            notify.subscribe(stranger, site, f"/flood-{i}/", victim)  # and again
    deliver(notify, later=False)
    assert len(_confirmations(notify, victim, 0)) == 1
    deliver(notify)  # an hour on: one more, about the four others
    [first, second] = _confirmations(notify, victim, 0)
    assert "/flood-0" in parts(first)[0] and "/flood-1" not in parts(first)[0]
    assert all(f"/flood-{i}" in parts(second)[0] for i in range(1, 5))
    deliver(notify)
    assert len(notify.mailbox.to(victim)) == 2


def test_a_signed_in_reader_with_a_verified_address_subscribes_it_without_an_email(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    accounts = notify.live.services.accounts
    mila = accounts.sign_in(site, f"email:{mail}", "Mila", mail, email_verified=True)
    session = accounts.session_for(site, mila, SignInMethod.EMAIL)
    answer = notify.subscribe(http, site, "/signed-in/", mail.upper(),
                              headers={"X-Rostra-Session": session})
    assert answer.json() == {"status": "subscribed"}
    deliver(notify, later=False)
    assert notify.mailbox.to(mail) == []
    assert notify.reader(http, site, "Ben").post("/signed-in/", "Hello Mila").status_code == 201
    deliver(notify)
    [digest] = notify.mailbox.to(mail)
    assert "Hello Mila" in parts(digest)[0]

    # Another address, or an account whose address is not verified, is asked first.
    other = address()
    answer = notify.subscribe(http, site, "/signed-in/", other,
                              headers={"X-Rostra-Session": session})
    assert answer.json() == {"status": "accepted"}
    unverified = accounts.sign_in(site, "sso-1", "Olga", other)
    answer = notify.subscribe(http, site, "/signed-in/", other, headers={
        "X-Rostra-Session": accounts.session_for(site, unverified, SignInMethod.OIDC)})
    assert answer.json() == {"status": "accepted"}
    deliver(notify, later=False)
    assert len(_confirmations(notify, other, 0)) == 1
    refused = http.post("/api/subscriptions", headers={
        "Origin": ORIGIN, "X-Rostra-Session": "not-a-session"}, json={
        "site": site, "thread": "/signed-in/", "email": address()})
    # As an anonymous browser's (which gets a voter id of its own with the answer).
    assert refused.status_code == 202 and refused.json()["status"] == "accepted"
