"""A site's head learns every moderator decision once, on PostgreSQL too: two workers
learning at once each read the head, added their decision and wrote it back, the last
write losing the other's; and a deadlock or a connection lost while writing it (a
restart or failover) lost the decision, logged. The head is now read and written in one
transaction, its row locked, which runs again after such a failure."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from rostra.moderation.model import SiteAwareClassifier
from rostra.moderation.toxicity import ToxicityClassifier
from rostra.store.moderation_tables import site_heads
from tests.conftest import CONNECTION_LOST, DEADLOCK, LiveServer, first_try_fails

SAID = [("What a thoughtful piece, thank you.", False),
        ("You are a worthless idiot and everyone knows it.", True),
        ("The council should publish the minutes.", False),
        ("Shut up, moron, nobody asked you.", True)]


@pytest.fixture(scope="module")
def classifier() -> Iterator[ToxicityClassifier]:
    instance = ToxicityClassifier("use3")
    yield instance
    instance.close()


def _decisions(server: LiveServer, site: str) -> int:
    with server.services.db.read() as conn:
        found = conn.scalar(select(site_heads.c.decisions).where(site_heads.c.site_id == site))
    return int(found or 0)


def test_two_workers_learning_at_once_each_add_their_decisions(
    server: LiveServer, classifier: ToxicityClassifier,
) -> None:
    """On SQLite as on PostgreSQL."""
    site = server.add_site("h" + secrets.token_hex(5))
    workers = [SiteAwareClassifier(classifier, server.services.db) for _ in range(2)]
    rounds = 12
    failed: list[BaseException] = []

    def learn(worker: SiteAwareClassifier) -> None:
        try:
            for n in range(rounds):
                text, bad = SAID[n % len(SAID)]
                worker.learn(site, text, bad)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failed.append(exc)

    threads = [threading.Thread(target=learn, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failed, failed
    assert _decisions(server, site) == 2 * rounds
    # The head as a third worker reads it: every decision in its state too.
    fresh = SiteAwareClassifier(classifier, server.services.db)
    assert fresh.site_head(site).n_decisions == 2 * rounds


@pytest.mark.postgres
@pytest.mark.parametrize("failure", [DEADLOCK, CONNECTION_LOST],
                         ids=["deadlock", "lost on the statement"])
def test_a_decision_whose_write_failed_is_learned_once(
    pg_live_server: LiveServer, classifier: ToxicityClassifier, failure: str,
) -> None:
    server = pg_live_server
    site = server.add_site("h" + secrets.token_hex(5))
    worker = SiteAwareClassifier(classifier, server.services.db)
    worker.learn(site, *SAID[0])
    with first_try_fails(server, "UPDATE", f"NEW.site_id = '{site}'", failure,
                         table="site_heads") as tried:
        worker.learn(site, *SAID[1])
        assert tried() == 2
    assert _decisions(server, site) == 2
