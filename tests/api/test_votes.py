"""Votes: up, down, change, remove; one per voter; none on one's own comment."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.conftest import ORIGIN, LiveServer, Reader, without_waiting_for_a_reply


def test_it_counts_up_and_down_votes_and_changes(ana: Reader, ben: Reader, http: httpx.Client,
                                                 site: str) -> None:
    comment_id = ana.post("/votes/", "vote on me").json()["comment"]["id"]
    cid = Reader("Cid", http, site)

    up = ben.vote(comment_id, 1).json()
    assert (up["score"], up["upvotes"], up["downvotes"], up["vote"]) == (1, 1, 0, 1)
    assert ben.voter, "a first vote hands out a voter id"

    assert cid.vote(comment_id, -1).json()["score"] == 0
    changed = ben.vote(comment_id, -1).json()
    assert (changed["score"], changed["upvotes"], changed["downvotes"]) == (-2, 0, 2)
    removed = ben.vote(comment_id, 0).json()
    assert (removed["score"], removed["upvotes"], removed["downvotes"]) == (-1, 0, 1)

    [listed] = ana.page("/votes/")["comments"]
    assert (listed["score"], listed["upvotes"], listed["downvotes"]) == (-1, 0, 1)


def test_it_keeps_one_vote_per_voter(ana: Reader, ben: Reader) -> None:
    comment_id = ana.post("/one-vote/", "x").json()["comment"]["id"]
    for _ in range(3):
        result = ben.vote(comment_id, 1).json()
    assert result["score"] == 1 and result["upvotes"] == 1


def test_it_shows_the_reader_their_own_votes(ana: Reader, ben: Reader) -> None:
    first = ana.post("/my-votes/", "a").json()["comment"]["id"]
    second = ana.post("/my-votes/", "b").json()["comment"]["id"]
    ben.vote(first, 1)
    ben.vote(second, -1)
    response = ben.http.get("/api/votes", params={"site": ben.site, "thread": "/my-votes/"},
                            headers=ben.headers())
    assert response.json() == {"votes": {str(first): 1, str(second): -1}}
    anonymous = ben.http.get("/api/votes", params={"site": ben.site, "thread": "/my-votes/"})
    assert anonymous.json() == {"votes": {}}


def test_it_does_not_let_authors_vote_on_their_own_comments(ana: Reader) -> None:
    comment_id = ana.post("/own/", "mine").json()["comment"]["id"]
    response = ana.vote(comment_id, 1)
    assert response.status_code == 403
    assert response.json()["code"] == "own_comment"


def test_it_refuses_a_fresh_voter_id_from_a_network_that_voted(ana: Reader, ben: Reader,
                                                                http: httpx.Client,
                                                                site: str) -> None:
    comment_id = ana.post("/sock/", "x").json()["comment"]["id"]
    assert ben.vote(comment_id, 1).status_code == 200
    # Same machine, storage cleared: no voter id, same IP.
    sock = Reader("Ben again", http, site, ip=ben.ip)
    response = sock.vote(comment_id, 1)
    assert response.status_code == 409
    assert response.json()["code"] == "already_voted"
    assert ana.page("/sock/")["comments"][0]["score"] == 1


def test_it_validates_vote_values(ana: Reader, ben: Reader) -> None:
    comment_id = ana.post("/bad-vote/", "x").json()["comment"]["id"]
    for value in (2, "up", None, True):
        response = ben.http.post(f"/api/comments/{comment_id}/vote", json={"value": value},
                                 headers=ben.headers())
        assert response.status_code == 422, value
    assert ben.vote(999_999_999, 1).status_code == 404


def test_it_refuses_votes_from_other_origins_with_bad_values_and_on_own_comments(
    ana: Reader, ben: Reader, http: httpx.Client
) -> None:
    comment_id = ana.post("/vote-rules/", "Vote on me").json()["comment"]["id"]
    path = f"/api/comments/{comment_id}/vote"
    for origin in ("https://evil.example", "https://news.example.evil.com"):
        foreign = http.post(path, json={"value": 1}, headers={**ben.headers(), "Origin": origin})
        assert foreign.status_code == 403, origin
        assert foreign.json()["code"] == "origin_not_allowed"
    for value, detail in ((2, "value: Input should be less than or equal to 1"),
                          (-2, "value: Input should be greater than or equal to -1"),
                          (True, "value: Input should be a valid integer")):
        bad = http.post(path, json={"value": value}, headers=ben.headers())
        assert bad.status_code == 422 and bad.json()["detail"] == detail, bad.json()
    # The author, recognised by the comment's edit token alone (a fresh browser, no voter id).
    own = http.post(path, json={"value": 1}, headers={
        "Origin": ana.headers()["Origin"], "X-Forwarded-For": "198.51.100.200",
        "X-Rostra-Edit-Token": ana.tokens[comment_id]})
    assert own.status_code == 403 and own.json()["code"] == "own_comment"
    assert own.json()["detail"] == "you cannot vote on your own comment"
    missing = http.post("/api/comments/999999999/vote", json={"value": 1}, headers=ben.headers())
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no comment with id 999999999"
    [shown] = ana.page("/vote-rules/")["comments"]
    assert (shown["score"], shown["upvotes"], shown["downvotes"]) == (0, 0, 0)


@pytest.mark.postgres
def test_a_vote_does_not_wait_for_a_reply_to_its_comment_being_stored(
    pg_live_server: LiveServer,
) -> None:
    server = pg_live_server
    site = server.add_site("v" + secrets.token_hex(5), [ORIGIN])
    with server.client() as http:
        comment_id = Reader("Ana", http, site).post("/hot/", "vote on me").json()[
            "comment"]["id"]

    def vote() -> httpx.Response:
        with server.client() as http:
            return Reader("Ben", http, site).vote(comment_id, 1)

    answer = without_waiting_for_a_reply(server, comment_id, vote)
    assert answer.status_code == 200 and answer.json()["score"] == 1
