"""Ids that links carry are never given to another row. A sign-in link's token signs
its row's id (the row holds the address); on SQLite, without AUTOINCREMENT, the id of
the newest row comes back once that row is deleted, so a link whose row an erasure
deleted would sign its holder in as whoever asked for a link next. The same holds for
the subscriptions a confirmation email's links name."""

from __future__ import annotations

from sqlalchemy import select

from rostra.services.personal_data import PersonalData
from rostra.store.account_tables import reader_sign_in_links
from rostra.store.notify_tables import notify_subscriptions
from tests.conftest import ORIGIN
from tests.notify.conftest import NotifyServer, address
from tests.notify.test_email_sign_in import ask, mailed_link


def test_an_erased_readers_unused_link_never_signs_in_someone_else(
    notify_auto: NotifyServer,
) -> None:
    server = notify_auto
    site = server.new_site()
    mallory, victim = address(), address()
    with server.live.client() as http:
        assert ask(http, site, mallory).status_code == 202
        kept = mailed_link(server, mallory)  # never used
        # Mallory has their data erased (here by the operator; readers can do it from
        # the Account panel): their links' rows go.
        PersonalData(server.live.services.comments).forget(mallory, actor="cli")
        assert ask(http, site, victim).status_code == 202
        mailed_link(server, victim)
        with server.live.services.db.read() as conn:  # (the server is shared: others' too)
            links = conn.execute(select(reader_sign_in_links.c.email).where(
                reader_sign_in_links.c.email.in_([mallory, victim]))).scalars().all()
        assert links == [victim]
        # The erased link is dead: it signs nobody in.
        page = http.get(kept)
        assert page.status_code == 400 and 'id="invalid"' in page.text, "the link came back"


def test_a_subscription_id_is_never_given_again(notify_auto: NotifyServer) -> None:
    server = notify_auto
    site, other = server.new_site(), server.new_site()
    mail = address()
    with server.live.client() as http:
        def subscribe(site_id: str) -> int:
            asked = http.post("/api/subscriptions", headers={"Origin": ORIGIN}, json={
                "site": site_id, "thread": "/t/", "email": mail, "kind": "thread"})
            assert asked.status_code == 202, asked.text
            with server.live.services.db.read() as conn:
                return int(conn.scalar(select(notify_subscriptions.c.id).where(
                    notify_subscriptions.c.site_id == site_id)))

        first = subscribe(site)
        with server.live.services.db.write() as conn:  # ended ("not me", unsubscribe)
            conn.execute(notify_subscriptions.delete())
        assert subscribe(other) != first
