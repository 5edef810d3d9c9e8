"""Votes kept apart per voter and per comment, the refusals' texts, the reader's own votes
by Origin, and what a vote tells the read caches (this server's at once, other servers'
through the thread's change), through real HTTP on SQLite and PostgreSQL (the mutation
run of services/votes.py)."""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from rostra.core.thread_keys import ThreadKeyError, thread_key
from rostra.services.comments import NewComment, RequestContext
from rostra.services.container import Services
from rostra.store.tables import comments, votes
from tests.conftest import (
    CONNECTION_LOST,
    ORIGIN,
    POSTGRES_URL,
    CuttingProxy,
    LiveServer,
    Reader,
    RoundTrips,
    _start_live_server,
    create_postgres_database,
    first_try_fails,
    require,
)
from tests.importers.import_helpers import Rostra


def _mine(reader: Reader, thread: str) -> dict[str, int]:
    response = reader.http.get("/api/votes", params={"site": reader.site, "thread": thread},
                               headers=reader.headers())
    assert response.status_code == 200, response.text
    votes: dict[str, int] = response.json()["votes"]
    return votes


def _counts(reader: Reader, thread: str) -> dict[int, tuple[int, int, int]]:
    return {c["id"]: (c["score"], c["upvotes"], c["downvotes"])
            for c in reader.page(thread)["comments"]}


def test_it_changes_and_takes_back_only_this_voters_vote_on_this_comment(
    ana: Reader, ben: Reader, http: httpx.Client, site: str
) -> None:
    first = ana.post("/apart/", "first").json()["comment"]["id"]
    second = ana.post("/apart/", "second").json()["comment"]["id"]
    cid = Reader("Cid", http, site)
    assert ben.vote(first, 1).status_code == 200
    assert ben.vote(second, 1).status_code == 200
    assert cid.vote(first, 1).status_code == 200

    assert ben.vote(first, -1).json()["score"] == 0
    assert _mine(ben, "/apart/") == {str(first): -1, str(second): 1}
    assert _mine(cid, "/apart/") == {str(first): 1}

    assert ben.vote(first, 0).json()["score"] == 1
    assert _mine(ben, "/apart/") == {str(second): 1}
    assert _mine(cid, "/apart/") == {str(first): 1}
    assert _counts(ana, "/apart/") == {first: (1, 1, 0), second: (1, 1, 0)}

    # The vote taken back can be given again, and counts once.
    assert ben.vote(first, 1).json()["score"] == 2
    assert _counts(ana, "/apart/") == {first: (2, 2, 0), second: (1, 1, 0)}


def test_it_answers_a_repeated_vote_with_the_counts_and_no_new_voter_id(
    ana: Reader, ben: Reader
) -> None:
    comment_id = ana.post("/again/", "x").json()["comment"]["id"]
    assert ben.vote(comment_id, -1).status_code == 200
    again = ben.vote(comment_id, -1)
    assert again.status_code == 200
    assert again.json() == {"score": -1, "upvotes": 0, "downvotes": 1, "vote": -1,
                            "voter": None}


def test_a_network_that_voted_on_one_comment_may_vote_on_another(
    ana: Reader, ben: Reader, http: httpx.Client, site: str
) -> None:
    voted = ana.post("/network/", "voted on").json()["comment"]["id"]
    other = ana.post("/network/", "not yet").json()["comment"]["id"]
    assert ben.vote(voted, 1).status_code == 200

    # Ben again, storage cleared: a fresh voter id from the same address.
    refused = Reader("Ben again", http, site, ip=ben.ip).vote(voted, 1)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "a vote on this comment came from your network already"
    elsewhere = Reader("Ben again", http, site, ip=ben.ip).vote(other, 1)
    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json()["score"] == 1

    # Taking back a vote one never gave changes nothing, and hands out a voter id.
    nothing = Reader("Ben again", http, site, ip=ben.ip).vote(voted, 0)
    assert nothing.status_code == 200
    body = nothing.json()
    assert (body["score"], body["upvotes"], body["downvotes"], body["vote"]) == (1, 1, 0, 0)
    assert isinstance(body["voter"], str) and body["voter"]


def test_it_refuses_votes_on_a_held_comment_as_on_a_missing_one(
    server: LiveServer, http: httpx.Client
) -> None:
    site = server.add_site("h" + secrets.token_hex(5), [ORIGIN], moderation={"mode": "all"})
    ana = Reader("Ana", http, site)
    posted = ana.post("/held/", "waiting for review").json()["comment"]
    assert posted["state"] == "pending"
    response = Reader("Ben", http, site).vote(posted["id"], 1)
    assert response.status_code == 404
    assert response.json()["detail"] == f"no comment with id {posted['id']}"


def test_it_finds_the_readers_votes_by_the_origin_and_checks_the_thread(
    server: LiveServer, http: httpx.Client
) -> None:
    origin = f"https://votes-{secrets.token_hex(4)}.example"
    site = server.add_site("v" + secrets.token_hex(5), [origin])
    comment_id = http.post("/api/comments", headers={"Origin": origin}, json={
        "site": site, "thread": "/by-origin/", "name": "Ana", "text": "vote"}).json()[
        "comment"]["id"]
    voted = http.post(f"/api/comments/{comment_id}/vote", json={"value": 1},
                      headers={"Origin": origin, "X-Forwarded-For": "203.0.113.77"})
    assert voted.status_code == 200, voted.text
    voter = voted.json()["voter"]

    mine = http.get("/api/votes", params={"thread": "/by-origin/"},
                    headers={"Origin": origin, "X-Rostra-Voter": voter})
    assert mine.status_code == 200, mine.text
    assert mine.json() == {"votes": {str(comment_id): 1}}

    bad = "https://exa mple.com/"
    with pytest.raises(ThreadKeyError) as expected:
        thread_key(bad)
    refused = http.get("/api/votes", params={"site": site, "thread": bad},
                       headers={"Origin": origin, "X-Rostra-Voter": voter})
    assert refused.status_code == 422
    assert refused.json()["detail"] == f"thread: {expected.value}"


def test_it_sends_a_comment_that_climbed_after_the_first_page_was_read(
    ana: Reader, ben: Reader, http: httpx.Client, site: str
) -> None:
    top, middle, low = (ana.post("/climb/", text).json()["comment"]["id"]
                        for text in ("top", "middle", "low"))
    assert ben.vote(top, 1).status_code == 200
    first = ana.page("/climb/", sort="votes", limit=1)
    assert [c["id"] for c in first["comments"]] == [top]
    # After the first page was read, the newest comment climbs to the top score: ranked
    # by score then time, it now stands above the page boundary, and the next page sends
    # it rather than skip it.
    assert Reader("Cid", http, site).vote(low, 1).status_code == 200
    second = ana.page("/climb/", sort="votes", limit=1, cursor=first["next_cursor"])
    assert [c["id"] for c in second["comments"]] == [low, middle]


# -- two servers on one database --------------------------------------------------------


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_servers(request: pytest.FixtureRequest) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two Rostra processes' worth of servers on one database: the first polls for
    others' changes once a minute (what it shows after a vote comes from the vote
    itself), the second every 0.2 s (it hears of votes from the thread's change)."""
    drop = None
    if request.param == "postgres":
        require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
        url, drop = create_postgres_database(POSTGRES_URL)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='rostra-test-')}/rostra.sqlite3"
    started: list[Any] = []
    try:
        first, first_server = _start_live_server(url, request.param, cache_poll_seconds=60)
        started.append((first, first_server))
        second, second_server = _start_live_server(url, request.param, cache_poll_seconds=0.2)
        started.append((second, second_server))
        yield first, second
    finally:
        for live, server in reversed(started):
            server.stop()
            live.services.db.dispose()
        if drop is not None:
            drop()


def _score(http: httpx.Client, site: str, comment_id: int) -> int:
    page = http.get("/api/comments", params={"site": site, "thread": "/cached/"})
    assert page.status_code == 200, page.text
    [comment] = [c for c in page.json()["comments"] if c["id"] == comment_id]
    return int(comment["score"])


def test_a_vote_updates_the_page_this_server_and_other_servers_cached(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    first, second = two_servers
    site = first.add_site("c" + secrets.token_hex(5), [ORIGIN])
    second.services.sites.reload()
    with first.client() as one, second.client() as two:
        comment_id = Reader("Ana", one, site).post("/cached/", "vote on me").json()[
            "comment"]["id"]
        assert _score(one, site, comment_id) == 0  # both pages cached
        deadline = time.monotonic() + 10
        while _score(two, site, comment_id) != 0:  # the second server hears of the post
            assert time.monotonic() < deadline, "the second server never showed the post"
            time.sleep(0.05)
        assert _score(two, site, comment_id) == 0

        assert Reader("Ben", one, site).vote(comment_id, 1).status_code == 200
        assert _score(one, site, comment_id) == 1  # at once, no poll needed
        deadline = time.monotonic() + 10
        while _score(two, site, comment_id) != 1:
            assert time.monotonic() < deadline, "the second server kept the old score"
            time.sleep(0.05)


def test_a_changed_vote_is_exported_with_the_time_it_was_changed(
    server: LiveServer, ana: Reader, ben: Reader, tmp_path: Path
) -> None:
    comment_id = ana.post("/exported/", "x").json()["comment"]["id"]
    assert ben.vote(comment_id, 1).status_code == 200
    assert ben.vote(comment_id, -1).status_code == 200
    path = tmp_path / "site.jsonl"
    Rostra(server.settings.database_url, server.services.db).ok(
        "export", "--site", ana.site, path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    [comment] = [r for r in records if r["type"] == "comment" and r["id"] == comment_id]
    [vote] = [r for r in records if r["type"] == "vote" and r["comment_id"] == comment_id]
    assert vote["value"] == -1
    # The vote as it stands now was cast when the comment was last voted on.
    assert vote["created_at"] == comment["voted_at"]
    assert vote["created_at"] > comment["created_at"]


@pytest.mark.postgres
def test_a_votes_transaction_takes_five_round_trips_on_postgresql(pg_live_server: LiveServer) -> None:
    # BEGIN with the comment's counts (FOR NO KEY UPDATE; BEGIN was a round trip of its
    # own), the voter's earlier vote, the vote's row, the comment's new counts (returned
    # by their UPDATE, read by a SELECT of their own before), and the thread's change,
    # NOTIFY and COMMIT together (three round trips before). Every one of twelve votes:
    # psycopg prepares each statement on its fifth use on a connection, a round trip of
    # its own once per connection that the count leaves out (CI's votes met one each and
    # counted 7).
    server = pg_live_server
    site = server.add_site("v" + secrets.token_hex(5), [ORIGIN])
    services = server.services
    ids = [services.comments.post(
        NewComment(thread="/votes/trips/", text=f"Vote on me, {n}.", site=site, name="Ana"),
        RequestContext(origin=ORIGIN, ip="203.0.113.9")).comment["id"] for n in range(12)]
    voter = RequestContext(origin=ORIGIN, ip="203.0.113.10",
                           voter_token=services.tokens.new_voter()[1])
    counted = []
    for comment in ids:
        trace = RoundTrips(services.db)
        result = services.votes.vote(comment, 1, voter)
        counted.append(trace.in_transactions())
        assert (result.score, result.upvotes, result.downvotes) == (1, 1, 0)
    assert [len(trips) for trips in counted] == [5] * len(ids), counted
    with server.client(headers={"Origin": ORIGIN}) as http:
        page = http.get("/api/comments",
                        params={"site": site, "thread": "/votes/trips/"}).json()
    assert sorted((c["id"], c["score"]) for c in page["comments"]) == [(i, 1) for i in ids]


@pytest.mark.postgres
def test_a_vote_whose_connection_is_lost_on_a_statement_is_cast_at_the_next_try(
    pg_live_server: LiveServer,
) -> None:
    # A restart or failover of PostgreSQL in the middle of the vote's transaction: it
    # committed nothing and runs again on a fresh connection (it answered 500 before).
    server = pg_live_server
    site = server.add_site("l" + secrets.token_hex(5), [ORIGIN])
    services = server.services
    comment = services.comments.post(
        NewComment(thread="/votes/lost/", text="Vote on me.", site=site, name="Ana"),
        RequestContext(origin=ORIGIN, ip="203.0.113.9")).comment["id"]
    voter = RequestContext(origin=ORIGIN, ip="203.0.113.10",
                           voter_token=services.tokens.new_voter()[1])
    with first_try_fails(server, "INSERT", f"NEW.comment_id = {comment}", CONNECTION_LOST,
                         table="votes") as tried:
        result = services.votes.vote(comment, 1, voter)
        assert tried() == 2
    assert (result.score, result.upvotes, result.downvotes, result.vote) == (1, 1, 0, 1)
    assert _stored_counts(services, comment) == (1, 1, 0, 1)


@pytest.mark.postgres
def test_a_vote_whose_commit_lost_its_answer_is_counted_once(
    proxied: tuple[Services, CuttingProxy],
) -> None:
    # The COMMIT went through but its answer was lost with the connection. Setting a vote
    # is the same done twice: the vote runs again, finds itself, and answers the counts.
    # A reader who had no voter id yet and votes from a network that voted already is
    # refused; its own earlier try is not such a vote.
    services, proxy = proxied
    site = "c" + secrets.token_hex(5)
    services.sites.create(site, "Proxied", [ORIGIN])
    comment = services.comments.post(
        NewComment(thread="/votes/answer/", text="Vote on me.", site=site, name="Ana"),
        RequestContext(origin=ORIGIN, ip="203.0.113.9")).comment["id"]
    fresh_reader = RequestContext(origin=ORIGIN, ip="203.0.113.10")
    proxy.cut_answer = CuttingProxy.COMMITTED
    result = services.votes.vote(comment, 1, fresh_reader)
    assert proxy.cut == 1
    assert result.voter_token is not None
    assert (result.score, result.upvotes, result.downvotes, result.vote) == (1, 1, 0, 1)
    assert _stored_counts(services, comment) == (1, 1, 0, 1)


def _stored_counts(services: Services, comment_id: int) -> tuple[int, int, int, int]:
    """The comment's score, upvotes and downvotes, and how many votes it has."""
    with services.db.read() as conn:
        row = conn.execute(select(comments.c.score, comments.c.upvotes, comments.c.downvotes)
                           .where(comments.c.id == comment_id)).one()
        stored = conn.execute(select(func.count()).select_from(votes)
                              .where(votes.c.comment_id == comment_id)).scalar_one()
    return row.score, row.upvotes, row.downvotes, stored
