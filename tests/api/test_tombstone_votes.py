"""A removed comment kept as a tombstone (it has replies) shows no votes and ranks as
a comment with none under Most Voted."""

from __future__ import annotations

import httpx

from tests.conftest import Reader, all_ids


def _votes(comment: dict[str, object]) -> tuple[object, object, object]:
    return comment["score"], comment["upvotes"], comment["downvotes"]


def test_it_shows_a_tombstone_without_votes_and_ranks_it_as_none(
        ana: Reader, ben: Reader, http: httpx.Client, site: str) -> None:
    cid = Reader("Cid", http, site)
    loved = ana.post("/tv/", "loved, then deleted").json()["comment"]["id"]
    mild = ana.post("/tv/", "mild").json()["comment"]["id"]
    plain = ana.post("/tv/", "plain").json()["comment"]["id"]
    sour = ana.post("/tv/", "sour").json()["comment"]["id"]
    reply = ben.post("/tv/", "a reply keeps it", parent_id=loved).json()["comment"]["id"]
    for voter in (ben, cid, Reader("Dan", http, site)):
        assert voter.vote(loved, 1).status_code == 200
    assert Reader("Eve", http, site).vote(loved, -1).status_code == 200
    assert ben.vote(mild, 1).status_code == 200
    assert ben.vote(sour, -1).status_code == 200
    before = ana.page("/tv/", sort="votes")  # cached, then changed by the deletion
    assert [c["id"] for c in before["comments"]] == [loved, mild, plain, sour]
    assert _votes(before["comments"][0]) == (2, 3, 1)

    deleted = ana.http.delete(f"/api/comments/{loved}", headers=ana.headers(loved))
    assert deleted.status_code == 200

    for sort in ("votes", "newest", "oldest"):
        page = ana.page("/tv/", sort=sort)
        tomb = next(c for c in page["comments"] if c["id"] == loved)
        assert tomb["state"] == "deleted" and tomb["author"] is None
        assert _votes(tomb) == (0, 0, 0), sort
        assert tomb["replies"][0]["id"] == reply
    # Ranked as a comment without votes: below mild (1), among the zeros by time
    # (newest first), above sour (-1).
    expected = [mild, plain, loved, sour]
    page = ana.page("/tv/", sort="votes")
    assert [c["id"] for c in page["comments"]] == expected

    # Page by page, the cursors agree with the whole list: nothing skipped or repeated.
    seen: list[int] = []
    cursor = None
    while True:
        params = {"sort": "votes", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = ana.page("/tv/", **params)
        seen.extend(c["id"] for c in page["comments"])
        for comment in page["comments"]:
            if comment["id"] == loved:
                assert _votes(comment) == (0, 0, 0)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert reply in all_ids(ana.page("/tv/", sort="votes", limit="all")["comments"])
