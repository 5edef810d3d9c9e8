"""The moderation engine: each site's policy, read again when its settings change and
replaced by the defaults (with a warning) when they are broken; the rate limit's answer;
the stash that keeps a draft's embedding until its comment is stored (the mutation run
of moderation/engine.py). Through HTTP on SQLite and PostgreSQL where a server is
involved."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import update

from rostra.moderation.engine import EmbeddingStash
from rostra.store.tables import sites
from tests.conftest import LiveServer
from tests.moderation.conftest import new_site
from tests.moderation.test_http_moderation import post

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
