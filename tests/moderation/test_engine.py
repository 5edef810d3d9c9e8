"""The moderation engine: each site's policy, read again when its settings change and
replaced by the defaults (with a warning) when they are broken; the rate limit's answer;
the stash that keeps a draft's embedding until its comment is stored (the mutation run
of moderation/engine.py). Through HTTP on SQLite and PostgreSQL where a server is
involved."""

from __future__ import annotations

import re

import httpx
import numpy as np
from sqlalchemy import select, update

from rostra.moderation.engine import EmbeddingStash
from rostra.store.moderation_tables import comment_embeddings
from rostra.store.tables import sites
from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import new_site
from tests.moderation.test_http_classifier import chttp, cserver, record  # noqa: F401
from tests.moderation.test_http_moderation import post

__all__ = ["chttp", "cserver"]

PLAIN = "A perfectly ordinary remark about the council's budget, nothing more."
OTHERS = ["The new bridge will open in spring, according to the engineers.",
          "I grew up two streets from the harbour and remember the old ferry.",
          "Has anyone asked the school board what the survey actually found?"]


def test_it_reads_a_sites_policy_again_when_its_settings_change(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver, mode="all")
    held = post(http, site, PLAIN, thread="/policy/1")
    assert held.status_code == 201 and held.json()["comment"]["state"] == "pending"
    again = post(http, site, OTHERS[0], thread="/policy/2")
    assert again.json()["comment"]["state"] == "pending"  # the cached policy
    mserver.services.sites.update(site, settings={"moderation": {"mode": "post"}})
    published = post(http, site, OTHERS[1], thread="/policy/3")
    assert published.status_code == 201 and published.json()["comment"]["state"] == "approved"


def test_it_falls_back_to_the_defaults_when_a_sites_settings_are_broken(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver, mode="all")
    # Settings are checked when saved: these were written around the check (an old
    # version, a hand edit), and must not stop comments: the defaults apply (publish).
    with mserver.services.db.write() as conn:
        conn.execute(update(sites).where(sites.c.id == site).values(
            settings={"moderation": {"mode": "everything", "min_length": "short"}}))
    mserver.services.sites.reload()
    response = post(http, site, PLAIN, thread="/broken/1")
    assert response.status_code == 201 and response.json()["comment"]["state"] == "approved"


def test_it_answers_a_rate_limit_with_the_wait_in_the_header_and_the_message(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver, rate_limits={"post_author": "2/hour"})
    assert [post(http, site, text, thread=f"/rl/{n}").status_code
            for n, text in enumerate([PLAIN, OTHERS[0]])] == [201, 201]
    refused = post(http, site, OTHERS[1], thread="/rl/3")
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    found = re.fullmatch(r"Too many comments from you just now; please wait (\d+) seconds\.",
                         body["detail"])
    assert found, body["detail"]
    wait = int(found.group(1))
    assert 3500 < wait <= 3600
    assert refused.headers["Retry-After"] == str(wait)
    assert body["retry_after"] == wait


# -- the stash: a plain object, tested as one ----------------------------------------------


def test_the_stash_gives_each_embedding_back_once_by_its_reference() -> None:
    stash = EmbeddingStash()
    assert not stash
    first = stash.put("encoder-a", [0.1, 0.2])
    second = stash.put("encoder-b", [0.3])
    assert re.fullmatch(r"[0-9a-f]{16}", first) and first != second
    assert stash
    assert stash.take(second) == ("encoder-b", [0.3])
    assert stash.take(second) is None
    assert stash.take(first) == ("encoder-a", [0.1, 0.2])
    assert not stash
    assert stash.take("unknown") is None


def test_the_stash_forgets_the_oldest_beyond_its_capacity() -> None:
    assert EmbeddingStash().capacity == 4096
    stash = EmbeddingStash(capacity=2)
    refs = [stash.put("e", [n]) for n in range(3)]
    assert stash.take(refs[0]) is None
    assert stash.take(refs[1]) == ("e", [1])
    assert stash.take(refs[2]) == ("e", [2])


# -- the embedding a classifier computed, kept for the comment it read ----------------------


def test_it_keeps_an_embedding_only_for_a_comment_the_classifier_read(
    cserver: LiveServer, chttp: httpx.Client  # noqa: F811
) -> None:
    unread = new_site(cserver, toxicity=False)  # the site turned the classifier off
    posted = Reader("Ana", chttp, unread).post("/plain", OTHERS[2])
    assert posted.status_code == 201, posted.text
    stored = record(chttp, posted.json()["comment"]["id"])
    assert stored["has_embedding"] is False
    assert "toxicity" not in stored["moderation"]["facts"]

    read = new_site(cserver)
    posted = Reader("Ben", chttp, read).post("/plain", OTHERS[2])
    assert posted.status_code == 201, posted.text
    comment_id = posted.json()["comment"]["id"]
    stored = record(chttp, comment_id)
    assert stored["has_embedding"] is True
    assert "toxicity" in stored["moderation"]["facts"]
    # What is kept is the classifier's vector, under its encoder's name.
    with cserver.services.db.read() as conn:
        kept = conn.execute(select(comment_embeddings.c.encoder, comment_embeddings.c.vector)
                            .where(comment_embeddings.c.comment_id == comment_id)).one()
    encoder = cserver.services.comments.moderator.encoder  # type: ignore[attr-defined]
    assert kept.encoder == encoder
    vector = np.frombuffer(kept.vector, dtype=np.float16)
    assert len(vector) >= 64 and np.isfinite(vector).all() and np.abs(vector).sum() > 0


def test_the_embedding_is_kept_without_reading_the_new_comment_back(
    cserver: LiveServer, chttp: httpx.Client  # noqa: F811
) -> None:
    # The transaction that stores a new comment knows its moderation record (where the
    # embedding's reference is); reading it back was a round trip a comment on
    # PostgreSQL.
    from sqlalchemy import event

    site = new_site(cserver)
    read_back: list[str] = []

    def watch(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT COMMENTS.MODERATION"):
            read_back.append(statement)

    event.listen(cserver.services.db.engine, "before_cursor_execute", watch)
    try:
        posted = Reader("Cleo", chttp, site).post("/kept", OTHERS[1])
    finally:
        event.remove(cserver.services.db.engine, "before_cursor_execute", watch)
    assert posted.status_code == 201, posted.text
    assert record(chttp, posted.json()["comment"]["id"])["has_embedding"] is True
    assert read_back == []
