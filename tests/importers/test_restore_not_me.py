"""A reader's "not me" to a site's confirmation emails survives export and restore: on
the new server the site's form still asks that address nothing, a site's own export
carries it (with the address, which no subscription of the site names any more), and an
import rolled back takes it back (docs/import-export.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from import_helpers import Rostra
from sqlalchemy import select
from tests.conftest import ORIGIN, LiveServer, _start_live_server, free_port

from rostra.store.db import Database
from rostra.store.notify_tables import notify_addresses, notify_refusals, notify_subscriptions

VICTIM = "vic@example.org"


@contextmanager
def serving(rostra: Rostra) -> Iterator[tuple[LiveServer, httpx.Client]]:
    """A server on ``rostra``'s database that takes subscriptions (its mail goes to a
    port nobody listens on: these tests read the database, not mail)."""
    backend = "postgres" if rostra.url.startswith("postgresql") else "sqlite"
    live, server = _start_live_server(rostra.url, backend, smtp_host="127.0.0.1",
                                      smtp_port=free_port(), smtp_security="none")
    try:
        with live.client() as http:
            yield live, http
    finally:
        server.stop()
        live.services.db.dispose()


def subscribe(http: httpx.Client, site: str, thread: str) -> None:
    asked = http.post("/api/subscriptions", headers={"Origin": ORIGIN}, json={
        "site": site, "thread": thread, "email": VICTIM, "kind": "thread"})
    assert asked.status_code == 202, asked.text
    assert asked.json()["status"] == "accepted"


def refusals(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return sorted(tuple(r) for r in conn.execute(
            select(notify_addresses.c.email, notify_refusals.c.site_id,
                   notify_refusals.c.refused_at)
            .join(notify_addresses, notify_addresses.c.id == notify_refusals.c.address_id)))


def subscriptions(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(select(notify_subscriptions.c.thread_key)).scalars())


def test_not_me_survives_a_move(backend: tuple[Rostra, Rostra], tmp_path: Path) -> None:
    source, target = backend
    with serving(source) as (live, http):
        for site in ("news", "other"):
            live.add_site(site, [ORIGIN if site == "news" else "https://other.example"])
        subscribe(http, "news", "/planted")
        with source.db.read() as conn:
            address_id, sub_id = conn.execute(select(
                notify_subscriptions.c.address_id, notify_subscriptions.c.id)).one()
        # The mail client's one-click "Unsubscribe" on the confirmation: "not me".
        assert live.app.app.state.notify.subscriptions.not_me(address_id, [sub_id]) == 1
        subscribe(http, "news", "/planted-again")  # asked nothing: nothing stored
        assert subscriptions(source.db) == []
    said = refusals(source.db)
    assert [(email, site) for email, site, _at in said] == [(VICTIM, "news")]

    everything, one_site = tmp_path / "all.jsonl", tmp_path / "news.jsonl"
    source.ok("export", everything)
    source.ok("export", "--site", "news", one_site)
    assert '"type":"notify_refusal"' in one_site.read_text()
    for path in (everything, one_site):
        target.ok("import", "rostra", path)  # the second finds it restored already
        assert refusals(target.db) == said
    with serving(target) as (_live, http):
        subscribe(http, "news", "/planted-after-the-move")
    assert subscriptions(target.db) == [], "the restored site asked the address again"


def test_a_restore_that_fails_takes_it_back(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    with serving(rostra) as (live, http):
        live.add_site("news", [ORIGIN])
        subscribe(http, "news", "/planted")
        with rostra.db.read() as conn:
            address_id, sub_id = conn.execute(select(
                notify_subscriptions.c.address_id, notify_subscriptions.c.id)).one()
        live.app.app.state.notify.subscriptions.not_me(address_id, [sub_id])
    path, bad = tmp_path / "all.jsonl", tmp_path / "bad.jsonl"
    rostra.ok("export", path)
    with serving(second_rostra) as (live, http):
        live.add_site("news", [ORIGIN])
        subscribe(http, "news", "/mine")  # the address is here already
    # A bad line after the refusal: the import stops and takes back what it wrote.
    bad.write_text(path.read_text() + '{"type":"notify_refusal"}\n')
    assert second_rostra.run("import", "rostra", bad, "--batch-size", "1").exit_code == 1
    assert refusals(second_rostra.db) == []
    assert subscriptions(second_rostra.db) == ["/mine"]
