"""Context notes over real HTTP, on SQLite and PostgreSQL: staff notes shown at once,
readers' notes shown only when readers who usually disagree rate them helpful, and
staff can always publish or withdraw one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.api.test_change_bus import Stream, within
from tests.api.test_sso import signed
from tests.conftest import ORIGIN, LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site


class Member:
    """A reader signed in through the site (single sign-on)."""

    def __init__(self, http: httpx.Client, secret: str, name: str, ip: str) -> None:
        self.http = http
        self.headers = {"Origin": ORIGIN, "X-Forwarded-For": ip,
                        "X-Rostra-SSO": signed(secret, id=name, name=name)}

    def propose(self, comment_id: int, text: str, *sources: str) -> httpx.Response:
        return self.http.post(f"/api/comments/{comment_id}/notes", headers=self.headers,
                              json={"text": text, "sources": list(sources)})

    def rate(self, note_id: int, helpful: bool) -> httpx.Response:
        response = self.http.post(f"/api/notes/{note_id}/rating", headers=self.headers,
                                  json={"helpful": helpful})
        assert response.status_code == 200, response.text
        return response

    def notes(self, comment_id: int) -> dict[str, Any]:
        response = self.http.get(f"/api/comments/{comment_id}/notes", headers=self.headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


def shown_notes(reader: Reader, thread: str) -> dict[int, list[dict[str, Any]]]:
    """{comment id: its notes} as the thread's page shows them."""
    out: dict[int, list[dict[str, Any]]] = {}
    for comment in reader.page(thread)["comments"]:
        for node in [comment, *comment["replies"]]:
            if node.get("notes"):
                out[node["id"]] = node["notes"]
    return out


def test_staff_notes_show_at_once_and_staff_decide_any_note(
        mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    comment = ana.post("/council", "The council never voted on the budget.").json()["comment"]
    bad = http.post("/api/moderation/notes", headers=STAFF, json={
        "comment_id": comment["id"], "text": "Context", "sources": ["javascript:alert(1)"]})
    assert bad.status_code == 422 and bad.json()["field"] == "sources"
    added = http.post("/api/moderation/notes", headers=STAFF, json={
        "comment_id": comment["id"],
        "text": "The council **voted** on the budget on 12 March (minutes, item 4).",
        "sources": ["HTTPS://Council.Example/minutes/2026-03-12#item-4"]})
    assert added.status_code == 201, added.text
    note = added.json()["note"]
    assert note["status"] == "published" and note["shown"] is True
    [seen] = shown_notes(ana, "/council")[comment["id"]]
    assert seen["by"] == "staff" and "<strong>voted</strong>" in seen["html"]
    assert seen["sources"] == ["https://council.example/minutes/2026-03-12"]
    # Withdrawn: gone from the page at once (its cached copy too); published again: back.
    withdrawn = http.post(f"/api/moderation/notes/{note['id']}/withdraw", headers=STAFF,
                          json={"reason": "the minutes were corrected"})
    assert withdrawn.status_code == 200 and withdrawn.json()["note"]["shown"] is False
    assert shown_notes(ana, "/council") == {}
    assert http.post(f"/api/moderation/notes/{note['id']}/publish",
                     headers=STAFF).json()["note"]["shown"] is True
    assert list(shown_notes(ana, "/council")) == [comment["id"]]
    audit = http.get("/api/moderation/audit", params={"site": site}, headers=STAFF).json()
    assert [e["action"] for e in audit["entries"]][:3] == [
        "published_note", "withdrawn_note", "add_note"]
    listed = http.get("/api/moderation/notes", params={"site": site, "status": "published"},
                      headers=STAFF).json()["notes"]
    assert [n["id"] for n in listed] == [note["id"]]
    assert http.post("/api/moderation/notes", json={
        "comment_id": comment["id"], "text": "x"}).status_code == 401


@dataclass
class Ferry:
    """A thread of six claims about a ferry, readers on two sides, and four notes that
    split them (each side finds its own side's helpful), so that the model tells the
    sides apart."""

    left: list[Member]
    right: list[Member]
    writer: Member
    ana: Reader
    ids: list[int]

    def propose(self, comment_id: int, text: str) -> int:
        response = self.writer.propose(comment_id, text, "https://ferry.example/timetable")
        assert response.status_code == 201, response.text
        assert response.json()["note"]["status"] == "proposed"
        return int(response.json()["note"]["id"])


def ferry(server: LiveServer, http: httpx.Client, site: str) -> Ferry:
    secret = server.services.accounts.make_secret(site)
    left = [Member(http, secret, f"left{i}", f"198.51.100.{i + 1}") for i in range(6)]
    right = [Member(http, secret, f"right{i}", f"198.51.100.{i + 101}") for i in range(6)]
    ana = Reader("Ana", http, site)
    claims = ["The ferry stopped running on Sundays last spring.",
              "Tickets cost twice what they did before the merger.",
              "Nobody asked the islanders before the timetable changed.",
              "The new boat is slower than the one it replaced.",
              "The morning crossing now leaves at seven instead of six.",
              "The harbour office closes at noon on weekdays now."]
    posted = [ana.post("/ferry", claim).json()["comment"] for claim in claims]
    assert all(c["state"] == "approved" for c in posted)
    found = Ferry(left, right, Member(http, secret, "writer", "192.0.2.9"), ana,
                  [c["id"] for c in posted])
    for n in range(4):
        one_side, other = (left, right) if n % 2 == 0 else (right, left)
        split = found.propose(found.ids[n], f"A note that one side likes ({n}).")
        for member in one_side:
            member.rate(split, True)
        for member in other:
            member.rate(split, False)
    return found


def test_reader_notes_show_only_when_both_sides_find_them_helpful(
        mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver)
    town = ferry(mserver, http, site)
    left, right, ana, ids, propose = town.left, town.right, town.ana, town.ids, town.propose
    bridging = propose(ids[4], "The timetable changed on 1 May; both old and new are linked.")
    one_sided = propose(ids[5], "A note only the left finds helpful.")
    for member in left + right:
        member.rate(bridging, True)
    for member in left:
        member.rate(one_sided, True)

    notes = shown_notes(ana, "/ferry")
    assert [n["id"] for n in notes.get(ids[4], [])] == [bridging]
    assert notes[ids[4]][0]["by"] == "readers"
    assert ids[5] not in notes and not any(ids[n] in notes for n in range(4))
    # A signed-in reader is offered the notes still waiting for ratings, with their own.
    waiting = right[0].notes(ids[5])
    assert waiting["notes"] == [] and [n["id"] for n in waiting["proposed"]] == [one_sided]
    assert waiting["proposed"][0]["your_rating"] is None
    assert left[0].notes(ids[5])["proposed"][0]["your_rating"] is True
    # Anonymous readers see only what is shown.
    assert http.get(f"/api/comments/{ids[5]}/notes", headers={"Origin": ORIGIN}).json() == {
        "notes": [], "proposed": []}
    # Staff can always publish a note the ratings did not show.
    published = http.post(f"/api/moderation/notes/{one_sided}/publish", headers=STAFF)
    assert published.json()["note"]["shown"] is True
    assert ids[5] in shown_notes(ana, "/ferry")


def test_it_keeps_notes_to_signed_in_readers_who_are_not_the_author(
        mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver)
    secret = mserver.services.accounts.make_secret(site)
    ana = Reader("Ana", http, site)
    comment_id = ana.post("/rules", "A comment to add context to.").json()["comment"]["id"]
    anonymous = http.post(f"/api/comments/{comment_id}/notes", headers=ana.headers(),
                          json={"text": "Context", "sources": []})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "sign_in_required"
    member = Member(http, secret, "member", "192.0.2.30")
    own_comment = http.post("/api/comments", headers=member.headers, json={
        "site": site, "thread": "/rules", "text": "My own comment."}).json()["comment"]["id"]
    own = member.propose(own_comment, "Context on my own comment")
    assert own.status_code == 403 and own.json()["code"] == "note_on_own_comment"
    note_id = member.propose(comment_id, "Context").json()["note"]["id"]
    mine = http.post(f"/api/notes/{note_id}/rating", headers=member.headers,
                     json={"helpful": True})
    assert mine.status_code == 403 and mine.json()["code"] == "own_note"
    elsewhere = http.post(f"/api/comments/{comment_id}/notes",
                          headers={**member.headers, "Origin": "https://evil.example"},
                          json={"text": "Context", "sources": []})
    assert elsewhere.status_code == 403
    empty = member.propose(comment_id, "   ")
    assert empty.status_code == 422


def test_open_pages_get_a_note_published_or_withdrawn_under_a_comment(
        mserver: LiveServer, http: httpx.Client) -> None:
    """A note reaches the readers on the thread now (it is for them), in the event that
    carries its comment as the page shows it, instead of a bare "changed" that every
    open page answered with a fetch that did not show it."""
    site = new_site(mserver)
    comment = Reader("Ana", http, site).post(
        "/live-notes", "The bridge was never inspected.").json()["comment"]
    stream = Stream(mserver.url, site, "/live-notes")
    try:
        added = http.post("/api/moderation/notes", headers=STAFF, json={
            "comment_id": comment["id"], "text": "It was inspected in **May**.",
            "sources": ["https://city.example/bridges"]})
        assert added.status_code == 201, added.text
        within(5, lambda: any(e.get("edited", {}).get("notes") for e in stream.data))
        [event] = [e for e in stream.data if e.get("edited", {}).get("notes")]
        assert event["edited"]["id"] == comment["id"]
        [note] = event["edited"]["notes"]
        assert "<strong>May</strong>" in note["html"] and note["by"] == "staff"
        assert http.post(f"/api/moderation/notes/{added.json()['note']['id']}/withdraw",
                         headers=STAFF, json={"reason": "wrong"}).status_code == 200
        within(5, lambda: "notes" not in [e for e in stream.data if "edited" in e][-1]["edited"])
        assert all(set(e) != {"thread"} for e in stream.data), stream.data
    finally:
        stream.close()
