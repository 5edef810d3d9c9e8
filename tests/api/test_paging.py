"""Paging: keyset cursors never lose or repeat a comment (property-based)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import LiveServer, Reader, all_ids

# Between two page loads, readers post, delete or vote.
ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("post"), st.integers(0, 3)),
        st.tuples(st.just("reply"), st.integers(0, 100)),
        st.tuples(st.just("delete"), st.integers(0, 100)),
        st.tuples(st.just("vote"), st.integers(0, 100), st.sampled_from([1, -1, 0])),
    ),
    max_size=6,
)


def _walk(reader: Reader, thread: str, sort: str, limit: int,
          between: list[list[Any]], state: dict[str, Any]) -> list[int]:
    """Read page after page, applying one batch of changes between pages."""
    seen: list[int] = []
    cursor = None
    step = 0
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = reader.page(thread, **params)
        seen.extend(c["id"] for c in page["comments"])
        cursor = page["next_cursor"]
        if not cursor:
            return seen
        if step < len(between):
            _apply(reader, thread, between[step], state)
        step += 1


def _apply(reader: Reader, thread: str, actions: list[Any], state: dict[str, Any]) -> None:
    voters: list[Reader] = state["voters"]
    for action in actions:
        kind = action[0]
        live = state["top"]
        if kind == "post":
            for _ in range(action[1] + 1):
                cid = reader.post(thread, "new").json()["comment"]["id"]
                live.append(cid)
                state["posted_later"].add(cid)
        elif kind == "reply" and live:
            parent = live[action[1] % len(live)]
            reader.post(thread, "a reply", parent_id=parent)
        elif kind == "delete" and live:
            victim = live.pop(action[1] % len(live))
            reader.http.delete(f"/api/comments/{victim}", headers=reader.headers(victim))
            state["deleted"].add(victim)
        elif kind == "vote" and live:
            target = live[action[1] % len(live)]
            voters[action[1] % len(voters)].vote(target, action[2])


def _seed(server: LiveServer, http: httpx.Client, count: int) -> tuple[Reader, str, dict[str, Any]]:
    site = server.add_site("paging", ["https://news.example"])
    reader = Reader("Author", http, site)
    thread = f"/paging/{secrets.token_hex(6)}/"
    top = [reader.post(thread, f"comment {n}").json()["comment"]["id"] for n in range(count)]
    voters = [Reader(f"Voter {n}", http, site) for n in range(3)]
    state = {"top": list(top), "deleted": set(), "posted_later": set(), "voters": voters,
             "initial": set(top)}
    return reader, thread, state


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(count=st.integers(1, 14), limit=st.integers(1, 5), sort=st.sampled_from(["newest", "oldest"]),
       between=st.lists(ACTIONS, max_size=4))
def test_it_never_loses_or_repeats_under_newest_and_oldest(
    live_server: LiveServer, count: int, limit: int, sort: str, between: list[list[Any]],
) -> None:
    with live_server.client() as http:
        reader, thread, state = _seed(live_server, http, count)
        seen = _walk(reader, thread, sort, limit, between, state)
    assert len(seen) == len(set(seen)), "a comment was shown twice"
    survivors = state["initial"] - state["deleted"]
    missing = survivors - set(seen)
    assert not missing, f"comments lost: {missing}"
    order = seen if sort == "oldest" else list(reversed(seen))
    initial_order = [c for c in order if c in state["initial"]]
    assert initial_order == sorted(initial_order), "pages out of order"


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(count=st.integers(2, 12), limit=st.integers(1, 4), between=st.lists(ACTIONS, max_size=4))
def test_it_never_loses_a_comment_under_most_voted(
    live_server: LiveServer, count: int, limit: int, between: list[list[Any]],
) -> None:
    with live_server.client() as http:
        reader, thread, state = _seed(live_server, http, count)
        seen = _walk(reader, thread, "votes", limit, between, state)
    survivors = state["initial"] - state["deleted"]
    assert not survivors - set(seen), "a comment was skipped"


def test_it_orders_most_voted_by_score_then_time(ana: Reader, ben: Reader, http: httpx.Client,
                                                 site: str) -> None:
    ids = [ana.post("/mv/", f"c{n}").json()["comment"]["id"] for n in range(4)]
    cid = Reader("Cid", http, site)
    ben.vote(ids[1], 1)
    ben.vote(ids[2], 1)
    cid.vote(ids[2], 1)
    cid.vote(ids[3], -1)
    page = ana.page("/mv/", sort="votes")
    assert [c["id"] for c in page["comments"]] == [ids[2], ids[1], ids[0], ids[3]]


def test_it_fetches_everything_with_limit_all(ana: Reader) -> None:
    parents = [ana.post("/all/", f"c{n}").json()["comment"]["id"] for n in range(30)]
    for parent in parents[:5]:
        ana.post("/all/", "reply", parent_id=parent)
    page = ana.page("/all/", limit="all")
    assert page["next_cursor"] is None
    assert len(all_ids(page["comments"])) == 35
    first = ana.page("/all/")
    assert len(first["comments"]) == 20 and first["next_cursor"]


def test_it_refuses_foreign_or_broken_cursors(ana: Reader) -> None:
    for _ in range(3):
        ana.post("/cur/", "x")
    cursor = ana.page("/cur/", limit=1)["next_cursor"]
    for params in ({"cursor": "garbage!"}, {"cursor": cursor, "sort": "oldest"},
                   {"limit": "0"}, {"limit": "abc"}, {"limit": "100000"}, {"sort": "random"}):
        response = ana.http.get("/api/comments", params={"site": ana.site, "thread": "/cur/",
                                                          **params})
        assert response.status_code == 422, params
        assert response.json()["code"] == "invalid_input"
