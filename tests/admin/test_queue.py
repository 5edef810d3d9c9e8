"""The queue: filters and search, each item's context, every action, bulk, undo, and
the audit trail they leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.admin.conftest import Newsroom, parse
from tests.api.test_sso import signed


def _items(room: Newsroom, **params: Any) -> dict[int, Any]:
    doc = room.moderator.page("/admin/queue", **params)
    return {int(el.get("data-id")): el
            for el in doc.xpath('//article[contains(@class,"item")]')}


def _audit(room: Newsroom, **params: Any) -> list[dict[str, Any]]:
    response = room.moderator.get("/admin/audit.json", site=room.site_a, **params)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def _public_ids(room: Newsroom, thread: str = "/story/1") -> list[int]:
    page = room.reader("Visitor").page(thread)
    return [c["id"] for c in page["comments"]]


def test_it_filters_and_searches_the_queue(newsroom: Newsroom) -> None:
    room = newsroom
    cat = room.held("Cats are wonderful animals", name="Carla", thread="/pets")
    dog = room.held("Dogs, on the other hand, bark", name="Dmitri", thread="/pets",
                    email="dmitri@example.org")
    other = room.held("Elections are coming", name="Eve", thread="/politics")
    assert set(_items(room)) == {cat, dog, other}
    assert set(_items(room, q="WONDERFUL")) == {cat}
    assert set(_items(room, q="100%")) == set()  # LIKE wildcards are taken literally
    assert set(_items(room, author="dmitri@example.org")) == {dog}
    assert set(_items(room, author="carl")) == {cat}
    assert set(_items(room, thread="pets")) == {cat, dog}
    everything = {cat, dog, other}
    assert set(_items(room, reason="pre_moderation")) == everything  # held by the policy
    assert set(_items(room, reason="policy")) == everything  # by the check's name too
    assert set(_items(room, language="en")) == everything
    assert set(_items(room, language="de")) == set()
    assert set(_items(room, reason="links")) == set()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert set(_items(room, since=tomorrow)) == set()
    assert set(_items(room, until=tomorrow)) == {cat, dog, other}
    assert list(_items(room, order="oldest")) == [cat, dog, other]
    assert set(_items(room, state="approved")) == set()
    bad = room.moderator.get("/admin/queue", since="yesterday")
    assert bad.status_code == 200
    assert "since: a date" in parse(bad).xpath('string(//p[@role="alert"])')


def test_it_marks_authors_signed_in_by_their_site(newsroom: Newsroom) -> None:
    room = newsroom
    secret = room.server.services.accounts.make_secret(room.site_a)
    reader = room.reader("Mira")
    posted = reader.http.post("/api/comments", headers={
        **reader.headers(), "X-Rostra-SSO": signed(secret, id="m-9", name="Mira Member"),
    }, json={"site": room.site_a, "thread": "/story/1", "text": "A held comment from a member"})
    assert posted.status_code == 201, posted.text
    member = int(posted.json()["comment"]["id"])
    anonymous = room.held("A held comment from nobody in particular", name="Nobody")
    items = _items(room)
    badge = items[member].xpath('.//*[@data-account]')
    assert len(badge) == 1 and badge[0].text_content() == "signed in"
    assert "Mira Member" in items[member].text_content()
    assert items[anonymous].xpath('.//*[@data-account]') == []


def test_it_shows_each_comment_in_context_with_its_authors_history(
        newsroom: Newsroom) -> None:
    room = newsroom
    sites = room.server.services.sites
    sites.update(room.site_a, settings={"moderation": {"mode": "post", "toxicity": False,
                                                       "rate_limits": {"post_author": ""}}})
    parent = room.held("The article misses the point", name="Paula")
    earlier = room.held("An earlier comment of Rob", name="Rob")
    sites.update(room.site_a, settings={"moderation": {"mode": "all", "toxicity": False,
                                                       "rate_limits": {"post_author": ""}}})
    reply = room.held("I disagree with Paula", name="Rob", parent_id=parent)
    room.held("A reply to Rob", name="Sam", parent_id=parent)
    room.moderator.post("/admin/act", {"action": "reject", "id": [earlier]})
    item = _items(room, state="all", q="disagree")[reply]
    assert "The article misses the point" in item.xpath('string(.//div[@class="context"])')
    assert item.xpath('string(.//div[@class="body"])').strip() == "I disagree with Paula"
    reasons = item.xpath('.//ul[@class="reasons"]/li/@data-code')
    assert reasons, "the reasons it was held are shown"
    history = {el.get("data-history"): el.text_content()
               for el in item.xpath('.//*[@data-history]')}
    assert history["total"] == "2 comments"  # Rob's two, on this site
    assert history["ratio"] == "0% approved"
    assert history["bans"] == "0 past bans"
    parent_item = _items(room, state="all", q="misses the point")[parent]
    assert "A reply to Rob" in parent_item.xpath('string(.//details[@class="replies"])')


def test_it_approves_in_bulk_and_undoes_it(newsroom: Newsroom) -> None:
    room = newsroom
    ids = [room.held(f"Comment number {i}", name=f"R{i}") for i in range(3)]
    response = room.moderator.post("/admin/act", {"action": "approve", "id": ids[:2],
                                                  "next": "/admin/queue"})
    assert response.status_code == 303
    notice = room.moderator.page(response.headers["location"])
    assert notice.xpath('string(//span[@id="notice-text"])') == "Approved 2 comments."
    assert set(_public_ids(room)) == set(ids[:2])
    assert set(_items(room)) == {ids[2]}
    entries = _audit(room, action="approve")
    assert {e["target"] for e in entries} == {f"comment:{i}" for i in ids[:2]}
    assert all(e["actor"].startswith(room.moderator.name) for e in entries)
    assert entries[0]["before"] == {"state": "pending"}
    undone = room.moderator.post("/admin/undo", {"next": "/admin/queue"})
    assert undone.status_code == 303
    assert set(_items(room)) == set(ids)
    assert _public_ids(room) == []
    assert {e["target"] for e in _audit(room, action="undo")} == {f"comment:{i}" for i in ids[:2]}
    # Undo happens once.
    again = room.moderator.post("/admin/undo", {})
    assert again.status_code == 422


def test_it_rejects_marks_spam_and_deletes(newsroom: Newsroom) -> None:
    room = newsroom
    bad, spam, gone = (room.held(t, name=n) for t, n in
                       (("Rude", "A"), ("Buy pills", "B"), ("Oops", "C")))
    for comment_id, action in ((bad, "reject"), (spam, "spam"), (gone, "delete")):
        response = room.moderator.post(f"/admin/act?only={comment_id}",
                                       {"action": action, "reason": f"because {action}"},
                                       headers={"Accept": "application/json"})
        assert response.json() == {"done": action, "ids": [comment_id], "undo": True}
    assert set(_items(room, state="spam")) == {spam}
    assert set(_items(room, state="rejected")) == {bad}
    assert set(_items(room, state="deleted")) == {gone}
    reasons = {e["action"]: e["reason"] for e in _audit(room)}
    assert reasons == {"reject": "because reject", "spam": "because spam",
                       "delete": "because delete"}


def test_it_keeps_the_old_text_when_staff_edit_and_can_undo(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("My phone number is 555-0100, call me")
    room.moderator.post("/admin/act", {"action": "approve", "id": [comment_id]})
    response = room.moderator.post(f"/admin/comments/{comment_id}/edit",
                                   {"text": "My phone number is [removed], call me",
                                    "reason": "personal data"})
    assert response.status_code == 303
    page = room.reader("Visitor").page("/story/1")
    assert "[removed]" in page["comments"][0]["html"]
    doc = room.moderator.page(f"/admin/comments/{comment_id}")
    assert "555-0100" in doc.xpath('string(//ol[@class="revisions"])')
    edit = _audit(room, action="edit")[0]
    assert edit["before"]["text"].endswith("call me") and edit["reason"] == "personal data"
    room.moderator.post("/admin/undo", {})
    page = room.reader("Visitor").page("/story/1")
    assert "555-0100" in page["comments"][0]["html"]
    empty = room.moderator.post(f"/admin/comments/{comment_id}/edit", {"text": "  "})
    assert empty.status_code == 422


def test_it_features_and_pins(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("An insightful comment")
    room.moderator.post(f"/admin/act?only={comment_id}", {"action": "featured"})
    item = _items(room)[comment_id]
    assert "featured" in item.xpath('string(.//div[@class="item-head"])')
    room.moderator.post(f"/admin/act?only={comment_id}", {"action": "pinned"})
    room.moderator.post("/admin/undo", {})
    assert "featured" in _items(room)[comment_id].xpath('string(.//div[@class="item-head"])')
    assert [e["action"] for e in _audit(room, target=f"comment:{comment_id}")] == [
        "undo", "pinned", "featured"]


def test_it_shows_readers_pinned_comments_first_and_marks_featured_ones(
    newsroom: Newsroom,
) -> None:
    room = newsroom
    thread = "/story/pins"
    ids = [room.held(f"Comment {n}", thread=thread) for n in range(4)]
    for comment_id in ids:
        room.moderator.post(f"/admin/act?only={comment_id}", {"action": "approve"})
    room.moderator.post(f"/admin/act?only={ids[0]}", {"action": "pinned"})
    room.moderator.post(f"/admin/act?only={ids[2]}", {"action": "featured"})
    visitor = room.reader("Visitor")
    page = visitor.page(thread, limit=2)
    order = [c["id"] for c in page["comments"]]
    assert order[0] == ids[0] and page["comments"][0]["pinned"] is True
    seen = list(order)
    cursor = page["next_cursor"]
    while cursor:
        page = visitor.page(thread, limit=2, cursor=cursor)
        seen += [c["id"] for c in page["comments"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(ids), "the pinned comment is neither lost nor repeated"
    featured = [c for c in visitor.page(thread, limit="all")["comments"] if c["id"] == ids[2]]
    assert featured[0]["featured"] is True


def test_it_bans_and_shadow_bans_authors_and_lifts_a_ban_by_undo(newsroom: Newsroom) -> None:
    room = newsroom
    troll = room.held("First troll comment", name="Troll", email="troll@example.org")
    response = room.moderator.post(f"/admin/comments/{troll}/ban",
                                   {"kind": "email", "duration": "7d", "reason": "abuse"})
    assert response.status_code == 303
    refused = room.reader("Troll").post("/story/1", "Back again", email="troll@example.org")
    assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]
    history = _items(room, q="First troll")[troll]
    assert history.xpath('string(.//*[@data-history="bans"])') == "1 past ban"
    ban = _audit(room, action="ban")[0]
    assert ban["reason"] == "abuse" and ban["after"]["kind"] == "email"
    room.moderator.post("/admin/undo", {})
    assert _audit(room, action="unban")
    assert room.server.app.app.state.moderation.service.list_bans(room.site_a) == []
    sneaky = room.held("Sneaky one", name="Sly")
    shadow = room.moderator.post(f"/admin/comments/{sneaky}/ban",
                                 {"kind": "voter", "duration": "forever", "shadow": "1"})
    assert shadow.status_code == 303
    assert _audit(room, action="shadow_ban")
    nothing = room.moderator.post(f"/admin/comments/{sneaky}/ban", {"kind": "account"})
    assert nothing.status_code == 422  # an anonymous author has no account to ban


def test_it_filters_the_audit_log(newsroom: Newsroom) -> None:
    room = newsroom
    one, two = room.held("One", name="A"), room.held("Two", name="B")
    room.moderator.post(f"/admin/act?only={one}", {"action": "approve"})
    room.owner.post(f"/admin/act?only={two}", {"action": "reject"})
    assert [e["target"] for e in _audit(room, actor=room.owner.name)] == [f"comment:{two}"]
    assert [e["target"] for e in _audit(room, target=f"comment:{one}")] == [f"comment:{one}"]
    doc = room.moderator.page("/admin/audit", site=room.site_a, action="reject")
    rows = doc.xpath('//table[contains(@class,"audit")]/tbody/tr')
    assert [r.get("data-target") for r in rows] == [f"comment:{two}"]
    assert room.outsider.get("/admin/audit", site=room.site_a).status_code == 403
    assert room.outsider.get("/admin/audit.json").json()["entries"] == []


def _classified(room: Newsroom, comment_id: int, toxicity: float, classes: dict[str, float],
                evidence: dict[str, Any] | None = None) -> None:
    """Give a held comment the scores the classifier would have stored with it (the
    newsroom's server runs without the classifier)."""
    from sqlalchemy import select, update

    from rostra.store.tables import comments

    db = room.server.services.db
    with db.write() as conn:
        moderation = dict(conn.scalar(select(comments.c.moderation).where(comments.c.id == comment_id)))
        facts = {**moderation.get("facts", {}), "toxicity": toxicity,
                 "toxicity_classes": {"abusive": toxicity, **classes}}
        if evidence:
            facts["toxicity_evidence"] = evidence
        conn.execute(update(comments).where(comments.c.id == comment_id)
                     .values(moderation={**moderation, "facts": facts}))


def test_it_sorts_by_risk_and_shows_why_the_classifier_held_each(newsroom: Newsroom) -> None:
    room = newsroom
    calm = room.held("A calm remark about the bus timetable", name="Cal")
    worst = room.held("You are a worthless idiot, get lost", name="Wes")
    middle = room.held("That take is stupid, honestly", name="Mid")
    unread = room.held("Posted before the classifier ran", name="Una")
    base = {"threat": 0.01, "identity_hate": 0.02, "insult": 0.1, "profanity": 0.05, "spam": 0.01}
    _classified(room, calm, 0.05, base)
    _classified(room, worst, 0.97, {**base, "insult": 0.95, "profanity": 0.4},
                {"class": "insult", "words": ["idiot", "worthless"],
                 "sentence": "You are a worthless idiot"})
    _classified(room, middle, 0.62, {**base, "insult": 0.55})
    assert list(_items(room, order="risk")) == [worst, middle, calm, unread]
    assert next(iter(_items(room))) == unread  # newest first stays the default
    item = _items(room, order="risk")[worst]
    risk = item.xpath('.//div[@class="risk"]')[0]
    assert risk.get("data-risk") == "0.97"
    shown = {el.get("data-class"): el.text_content() for el in risk.xpath('.//*[@data-class]')}
    assert set(shown) == {"threat", "identity_hate", "insult", "profanity", "spam"}
    assert "0.95" in shown["insult"] and "attack on a group" in shown["identity_hate"]
    assert [m.text_content() for m in risk.xpath(".//mark")] == ["idiot", "worthless"]
    assert risk.xpath('string(.//q[@class="worst"])') == "You are a worthless idiot"
    assert _items(room, order="risk")[unread].xpath('.//div[@class="risk"]') == []
    bad = room.moderator.get("/admin/queue", order="loudest")
    assert "order: one of newest, oldest, risk" in parse(bad).xpath('string(//p[@role="alert"])')
