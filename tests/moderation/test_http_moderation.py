"""The moderation engine end to end, through HTTP on a live server (classifier off)."""

from __future__ import annotations

from typing import Any

import httpx

from rostra.moderation.pow import solve
from tests.conftest import ORIGIN, LiveServer, Reader, all_ids
from tests.moderation.conftest import STAFF, new_site

SPAM = "Make 5000 dollars a week from home with this one simple trick, ask me how today"


def post(http: httpx.Client, site: str, text: str, thread: str = "/news/1", **extra: Any
         ) -> httpx.Response:
    body = {"site": site, "thread": thread, "name": "Bot", "text": text, **extra}
    return http.post("/api/comments", json=body, headers={"Origin": ORIGIN})


def staff_comment(http: httpx.Client, comment_id: int) -> dict[str, Any]:
    response = http.get(f"/api/moderation/comments/{comment_id}", headers=STAFF)
    assert response.status_code == 200, response.text
    comment: dict[str, Any] = response.json()["comment"]
    return comment


def test_it_throttles_and_holds_a_spam_flood(mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver, rate_limits={"post_author": "6/minute"})
    # A bot without a voter id: every post looks new, but it comes from one address.
    results = [post(http, site, SPAM, thread=f"/news/{i}") for i in range(8)]
    statuses = [r.status_code for r in results]
    assert statuses[:6] == [201] * 6 and statuses[6:] == [429, 429]
    assert int(results[6].headers["Retry-After"]) > 0
    assert results[6].json()["code"] == "rate_limited"
    states = [r.json()["comment"]["state"] for r in results[:6]]
    # The second copy is held as the author's duplicate; from the third on it is a flood,
    # stored as spam, which its author is told is held, as any held author is.
    assert states == ["approved", "pending"] + ["pending"] * 4
    reasons = staff_comment(http, results[5].json()["comment"]["id"])["moderation"]["reasons"]
    assert {"duplicate", "copy_paste_flood"} <= {r["code"] for r in reasons}
    spam = http.get("/api/moderation/queue", params={"site": site, "kind": "spam"},
                    headers=STAFF).json()["comments"]
    assert len(spam) == 4  # third copy onwards: a flood


def test_it_shows_a_shadow_banned_author_their_comment_and_nobody_else(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver)
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    first = ana.post("/story", "I have opinions about this story, many of them.").json()
    ban = http.post("/api/moderation/shadow-bans", headers=STAFF, json={
        "site": site, "kind": "voter", "comment_id": first["comment"]["id"],
        "reason": "trolling"})
    assert ban.status_code == 201 and ban.json()["ban"]["shadow"] is True
    response = ana.post("/story", "And here is another of my opinions, for everyone.")
    assert response.status_code == 201
    posted = response.json()
    # The author is told what publishing tells, as the site publishes at once: nothing
    # gives the ban away (tests/moderation/test_shadow_ban_looks_published.py).
    assert posted["moderation"] is None and posted["comment"]["state"] == "approved"
    hidden_id = posted["comment"]["id"]
    own = http.get(f"/api/comments/{hidden_id}", headers=ana.headers(hidden_id))
    assert own.status_code == 200 and "another of my opinions" in own.json()["comment"]["html"]
    assert http.get(f"/api/comments/{hidden_id}", headers=ben.headers()).status_code == 404
    assert hidden_id not in all_ids(ben.page("/story")["comments"])
    shadow = http.get("/api/moderation/queue", params={"site": site, "kind": "shadow"},
                      headers=STAFF).json()["comments"]
    assert [c["id"] for c in shadow] == [hidden_id] and shadow[0]["shadow"] is True
    held = http.get("/api/moderation/queue", params={"site": site}, headers=STAFF).json()
    assert hidden_id not in [c["id"] for c in held["comments"]]


def test_it_refuses_a_banned_network_until_the_ban_is_lifted(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver)
    ana = Reader("Ana", http, site, ip="203.0.113.10")
    ben = Reader("Ben", http, site, ip="203.0.113.20")
    cid = Reader("Cid", http, site, ip="203.0.114.20")
    first = ana.post("/story", "Something rude enough to get my network banned.").json()
    ban = http.post("/api/moderation/bans", headers=STAFF, json={
        "site": site, "kind": "range", "comment_id": first["comment"]["id"],
        "duration_seconds": 3600, "reason": "abuse from this network"}).json()["ban"]
    assert ban["active"] and ban["expires_at"] is not None
    # Ben writes from the same /24: refused with the reason; Cid, next door, is not.
    refused = ben.post("/story", "An innocent remark from the same network.")
    assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]
    assert "abuse from this network" in refused.json()["detail"]
    assert cid.post("/story", "A remark from the network next door.").status_code == 201
    lifted = http.delete(f"/api/moderation/bans/{ban['id']}", headers=STAFF,
                         params={"reason": "appeal granted"})
    assert lifted.status_code == 200 and lifted.json()["ban"]["active"] is False
    assert ben.post("/story", "An innocent remark from the same network.").status_code == 201
    audit = http.get("/api/moderation/audit", params={"site": site}, headers=STAFF).json()
    assert [(e["action"], e["actor"], e["reason"]) for e in audit["entries"]] == [
        ("unban", "admin-token", "appeal granted"), ("ban", "admin-token", "abuse from this network")]


def test_it_holds_a_comment_that_enough_readers_flag(mserver: LiveServer,
                                                      http: httpx.Client) -> None:
    site = new_site(mserver, thresholds={"flags_to_hold": 2})
    ana = Reader("Ana", http, site)
    comment_id = ana.post("/story", "A comment some readers will not like.").json()["comment"]["id"]
    readers = [Reader(n, http, site) for n in ("Ben", "Cid", "Dee")]
    for r in readers:  # each reader gets a voter id of their own
        r.post("/other", f"Hello from {r.name}, a reader of this site.")

    def flag(r: Reader, reason: str) -> httpx.Response:
        return http.post(f"/api/comments/{comment_id}/flag", json={"reason": reason,
                         "note": "see line 2"}, headers=r.headers())

    assert flag(readers[0], "abuse").status_code == 202
    assert flag(readers[0], "abuse").status_code == 202  # counted once
    assert comment_id in all_ids(ana.page("/story")["comments"])
    assert flag(readers[1], "off-topic").status_code == 202
    assert comment_id not in all_ids(ana.page("/story")["comments"])
    queue = http.get("/api/moderation/queue", params={"site": site, "kind": "flagged"},
                     headers=STAFF).json()["comments"]
    assert [c["id"] for c in queue] == [comment_id]
    assert sorted(f["reason"] for f in queue[0]["flags"]) == ["abuse", "off-topic"]
    assert "flagged" in [r["code"] for r in queue[0]["moderation"]["reasons"]]
    assert flag(readers[2], "spam").status_code == 404  # held: not flaggable now
    bad = http.post(f"/api/comments/{comment_id}/flag", json={"reason": "boring"},
                    headers=readers[2].headers())
    assert bad.status_code == 422
    approved = http.post(f"/api/moderation/comments/{comment_id}/approve", headers=STAFF,
                         json={"reason": "fair comment"})
    assert approved.status_code == 200 and approved.json()["comment"]["state"] == "approved"
    assert comment_id in all_ids(ana.page("/story")["comments"])
    detail = staff_comment(http, comment_id)
    assert all(not f["open"] for f in detail["flags"])
    assert [(a["action"], a["actor"]) for a in detail["audit"]] == [
        ("hold", "readers"), ("approve", "admin-token")]


def test_it_requires_proof_of_work_and_refuses_a_replay(mserver: LiveServer,
                                                        http: httpx.Client) -> None:
    site = new_site(mserver, pow={"mode": "always", "difficulty": 2000})
    text = "A comment with its anti-spam puzzle solved."
    missing = post(http, site, text)
    assert missing.status_code == 422 and missing.json()["reasons"] == ["pow_required"]
    challenge = http.get("/api/pow", params={"site": site, "thread": "/news/1"}).json()
    assert challenge["required"] is True
    assert challenge["parameters"]["data"] == {"site": site, "difficulty": 2000}
    answer = solve(challenge)
    assert post(http, site, text, pow=answer).status_code == 201
    replay = post(http, site, text + " Again.", pow=answer)
    assert replay.status_code == 422 and replay.json()["reasons"] == ["pow_replayed"]
    other_site = new_site(mserver, pow="always")
    stolen = post(http, other_site, text, pow=solve(http.get(
        "/api/pow", params={"site": site}).json()))
    assert stolen.status_code == 422 and stolen.json()["reasons"] == ["pow_invalid"]


def test_it_holds_first_time_authors_until_one_comment_is_approved(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, mode="first_time")
    ana = Reader("Ana", http, site)
    first = ana.post("/story", "My very first comment here.").json()
    assert first["comment"]["state"] == "pending"
    assert first["moderation"]["reasons"] == ["first_time_author"]
    assert http.post(f"/api/moderation/comments/{first['comment']['id']}/approve",
                     headers=STAFF).status_code == 200
    assert ana.post("/story", "And my second one.").json()["comment"]["state"] == "approved"


def test_it_asks_for_staff_credentials(mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver)
    assert http.get("/api/moderation/queue", params={"site": site}).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert http.post("/api/moderation/comments/1/approve", headers=wrong).status_code == 401
