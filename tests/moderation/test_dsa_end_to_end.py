"""The DSA flows as a newsroom and a reader use them, end to end on a live server:
the complaint window of Art. 20, a reversal that puts the author back where they
stood, a decision that stays decided, and the notifier forgotten on erasure."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from lxml import html as lxml_html
from sqlalchemy import event, insert, select, update

from rostra.services.personal_data import PersonalData
from rostra.store.dsa_tables import dsa_notices, dsa_statements
from rostra.store.moderation_tables import author_stats
from rostra.store.tables import comments
from tests.admin.conftest import PASSWORD, StaffMember, staff_service
from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site
from tests.moderation.test_dsa import GROUNDS, notice, posted, statements


def _appeal(reader: Reader, comment_id: int, statement_id: int) -> httpx.Response:
    return reader.http.post(f"/api/comments/{comment_id}/appeal",
                            headers=reader.headers(comment_id),
                            json={"statement_id": statement_id,
                                  "text": "My comment broke no law and no rule of the site."})


def _decided_days_ago(mserver: LiveServer, statement_id: int, days: int) -> None:
    with mserver.services.db.write() as conn:
        conn.execute(update(dsa_statements).where(dsa_statements.c.id == statement_id)
                     .values(created_at=datetime.now(UTC) - timedelta(days=days)))


def _other_moderator(mserver: LiveServer, browser: httpx.Client) -> StaffMember:
    name = "e" + secrets.token_hex(5)
    staff_service(mserver).create_user(name, PASSWORD, is_admin=True)
    other = StaffMember(name, browser)
    assert other.login().status_code == 303
    return other


def test_an_appeal_is_taken_for_six_months_after_the_decision_and_not_after(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # Art. 20(1): the complaint system is open "for a period of at least six months
    # following the decision". Statements had no window: an appeal came years later.
    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    recent = posted(ana, "A comment removed five months ago, still open to appeal.")
    old = posted(ana, "A comment removed seven months ago, past the window for appeals.")
    for comment_id in (recent, old):
        removed = http.post(f"/api/moderation/comments/{comment_id}/reject", headers=STAFF,
                            json={"reason": "Off-topic"})
        assert removed.status_code == 200, removed.text
    [recent_statement] = statements(ana, recent)
    [old_statement] = statements(ana, old)
    _decided_days_ago(mserver, recent_statement["id"], 150)
    _decided_days_ago(mserver, old_statement["id"], 7 * 31)

    [shown] = statements(ana, recent)
    assert shown["appealable"] is True and shown["appeal_until"] > shown["created_at"]
    assert _appeal(ana, recent, recent_statement["id"]).status_code == 201

    [closed] = statements(ana, old)
    assert closed["appealable"] is False
    late = _appeal(ana, old, old_statement["id"])
    assert (late.status_code, late.json()["code"]) == (422, "appeal_window_closed")
    token = mserver.app.app.state.dsa.tokens.statement_token(old_statement["id"])
    page = http.post("/dsa/statement", data={"token": token, "text": "Please look again."})
    assert page.status_code == 400 and 'id="appeal"' not in page.text
    assert 'id="closed"' in page.text and "appeal_window_closed" not in page.text
    assert statements(ana, old)[0]["appeal"] is None


def test_an_appeal_against_a_decision_since_replaced_is_refused(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # Held by readers' flags (statement 1), then removed as illegal on a notice
    # (statement 2). Statement 1 stayed open to appeal, and reversing it published the
    # comment again: the illegal-content decision undone without anyone appealing it.
    site = new_site(mserver, dsa={"grounds": GROUNDS}, thresholds={"flags_to_hold": 1})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    comment_id = posted(ana, "Those people should all be driven out of the town.")
    notice_id = notice(ben, comment_id).json()["notice"]["id"]
    flagged = http.post(f"/api/comments/{comment_id}/flag", json={"reason": "abuse"},
                        headers=Reader("Cy", http, site).headers())
    assert flagged.status_code == 202
    decided = http.post(f"/api/moderation/notices/{notice_id}/decision", headers=STAFF,
                        json={"outcome": "illegal", "reason": "Incites hatred"})
    assert decided.status_code == 200, decided.text
    newer, older = statements(ana, comment_id)
    assert (older["source"], newer["source"]) == ("flags", "notice")
    assert older["appealable"] is False and newer["appealable"] is True
    refused = _appeal(ana, comment_id, older["id"])
    assert (refused.status_code, refused.json()["code"]) == (422, "superseded")
    assert _appeal(ana, comment_id, newer["id"]).status_code == 201

    # An appeal made before the later decision can be upheld, not reversed: that would
    # publish the comment the later decision removed.
    second = posted(ana, "Another comment that readers flag and a moderator removes.")
    flagged = http.post(f"/api/comments/{second}/flag", json={"reason": "abuse"},
                        headers=Reader("Di", http, site).headers())
    assert flagged.status_code == 202
    [hold] = statements(ana, second)
    assert _appeal(ana, second, hold["id"]).status_code == 201
    assert http.post(f"/api/moderation/comments/{second}/reject", headers=STAFF,
                     json={"reason": "Abusive"}).status_code == 200
    with mserver.client() as browser:
        other = _other_moderator(mserver, browser)
        path = f"/admin/statements/{hold['id']}/appeal"
        accept = {"Accept": "application/json"}
        refused = other.post(path, {"outcome": "reversed"}, headers=accept)
        assert (refused.status_code, refused.json()["code"]) == (409, "superseded")
        assert other.post(path, {"outcome": "upheld"}, headers=accept).status_code == 200
    staff_view = http.get(f"/api/moderation/comments/{second}", headers=STAFF).json()
    assert staff_view["comment"]["state"] == "rejected"


def test_a_reversal_gives_the_author_back_their_standing(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # An upheld notice costs the author earned trust; reversed on appeal, it cost them
    # still (the count stayed), as if the removal had stood.
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    parent = posted(ana, "The council should publish the budget before the vote.")
    comment_id = posted(ana, "And the mayor should explain the missing money in it.")
    notice_id = notice(ben, comment_id, ground="defamation").json()["notice"]["id"]
    assert http.post(f"/api/moderation/notices/{notice_id}/decision", headers=STAFF,
                     json={"outcome": "illegal"}).status_code == 200
    [statement] = statements(ana, comment_id)
    assert _appeal(ana, comment_id, statement["id"]).status_code == 201
    with mserver.client() as browser:
        other = _other_moderator(mserver, browser)
        reversed_ = other.post(f"/admin/statements/{statement['id']}/appeal",
                               {"outcome": "reversed", "reason": "A fair question"},
                               headers={"Accept": "application/json"})
        assert reversed_.status_code == 200, reversed_.text
    assert [c["id"] for c in ana.page("/war-story")["comments"]] == [comment_id, parent]
    with mserver.services.db.read() as conn:
        counted = conn.execute(select(author_stats.c.notices).where(
            author_stats.c.site_id == site)).scalars().all()
    assert counted == [0]


def test_an_erased_notifier_is_named_no_more_on_their_notices(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # A reader who commented under their email filed a notice from the same browser,
    # giving their name but no email. Erased on request, their comments went, and their
    # flags' notes, but the notices queue still said "From Ben Reader".
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    address = f"ben-{secrets.token_hex(4)}@readers.example"
    ben_comment = ben.post("/other", "And I write to it, signed.", email=address)
    assert ben_comment.status_code == 201
    comment_id = posted(ana, "Those people should all be driven out of the town.")
    notice_id = notice(ben, comment_id, name="Ben Reader").json()["notice"]["id"]
    PersonalData(mserver.services.comments).forget(address, actor="test")
    with mserver.services.db.read() as conn:
        row = conn.execute(select(dsa_notices).where(dsa_notices.c.id == notice_id)).one()
    assert row.notifier_name is None and row.reporter is None and row.ip_hash is None
    queue = http.get("/api/moderation/notices", params={"site": site}, headers=STAFF).json()
    [item] = [n for n in queue["notices"] if n["id"] == notice_id]
    assert item["notifier_name"] is None


def test_a_second_notice_on_a_removed_comment_does_not_penalise_its_author_again(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # Two readers report the same comment. The first notice removes it as illegal; the
    # second, decided "illegal" too, counted another rejection and another upheld notice
    # against its author: one comment penalised twice.
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana = Reader("Ana", http, site)
    comment_id = posted(ana, "Those people should all be driven out of the town.")
    first, second = (notice(Reader(name, http, site), comment_id).json()["notice"]["id"]
                     for name in ("Ben", "Cy"))
    for notice_id in (first, second):
        decided = http.post(f"/api/moderation/notices/{notice_id}/decision", headers=STAFF,
                            json={"outcome": "illegal", "reason": "Incites hatred"})
        assert decided.status_code == 200, decided.text
        assert decided.json()["notice"]["outcome"] == "illegal"
    with mserver.services.db.read() as conn:
        counted = conn.execute(select(author_stats.c.rejected, author_stats.c.notices).where(
            author_stats.c.site_id == site)).all()
    assert [tuple(row) for row in counted] == [(1, 1)]
    assert len(statements(ana, comment_id)) == 1


def test_a_notice_on_a_comment_its_author_erased_is_closed_as_no_longer_available(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # The author erased their comment (on request) before the notice was decided. Only
    # "no action" went through ("illegal" hit 409 erased), and the notifier was told
    # that the comment stays: untrue, it was gone.
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    address = f"ana-{secrets.token_hex(4)}@readers.example"
    written = ana.post("/war-story", "Those people should all be driven out of town.",
                       email=address)
    assert written.status_code == 201, written.text
    comment_id = written.json()["comment"]["id"]
    notice_id = notice(ben, comment_id).json()["notice"]["id"]
    PersonalData(mserver.services.comments).forget(address, actor="test")
    [queued] = http.get("/api/moderation/notices", params={"site": site},
                        headers=STAFF).json()["notices"]
    assert queued["comment_available"] is False
    with mserver.client() as browser:
        page = _other_moderator(mserver, browser).get("/admin/notices", site=site).text
    [form] = lxml_html.fromstring(page).xpath(f'//article[@id="notice-{notice_id}"]//form')
    assert form.xpath('.//input[@name="outcome"]/@value') == ["unavailable"]
    path = f"/api/moderation/notices/{notice_id}/decision"
    stays = http.post(path, headers=STAFF, json={"outcome": "no_action"})
    assert (stays.status_code, stays.json()["code"]) == (409, "comment_gone")
    closed = http.post(path, headers=STAFF, json={"outcome": "unavailable"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["notice"]["outcome"] == "unavailable"
    # Not for a comment that is still there.
    other = notice(ben, posted(ana, "A comment that is still there to be decided on."))
    refused = http.post(f"/api/moderation/notices/{other.json()['notice']['id']}/decision",
                        headers=STAFF, json={"outcome": "unavailable"})
    assert (refused.status_code, refused.json()["code"]) == (422, "comment_available")


def test_an_erasure_finds_notices_by_reader_keys_a_chunk_at_a_time(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # Flags and votes are matched 500 reader keys at a time; notices were matched with
    # one IN list of them all, past what a statement should bind (SQLite's limit on
    # variables, PostgreSQL's on parameters, for a prolific commenter).
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana = Reader("Ana", http, site)
    address = f"ana-{secrets.token_hex(4)}@readers.example"
    written = ana.post("/war-story", "A comment written from many browsers.", email=address)
    assert written.status_code == 201, written.text
    base = 10**12 + secrets.randbelow(10**9) * 1000
    with mserver.services.db.write() as conn:
        row = conn.execute(select(comments).where(
            comments.c.id == written.json()["comment"]["id"])).one()
        values = {k: v for k, v in row._mapping.items() if k != "id"}
        conn.execute(insert(comments), [
            {**values, "id": base + n, "voter_id": f"bulk{n:04d}{base}"} for n in range(520)])
        notice_id = conn.execute(insert(dsa_notices).values(
            site_id=site, comment_id=row.id, ground="hate_speech", ground_label="Hate",
            explanation="Filed from one of those browsers.", notifier_name="Ana",
            good_faith=True, reporter=f"v:bulk0510{base}", created_at=row.created_at,
            deadline_at=row.created_at, status="open").returning(dsa_notices.c.id)).scalar_one()
    bound: list[int] = []

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "dsa_notices" in statement:
            bound.append(len(parameters))

    engine = mserver.services.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        exported = PersonalData(mserver.services.comments).export(address)
        PersonalData(mserver.services.comments).forget(address, actor="test")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert notice_id in [n["id"] for n in exported["dsa_notices"]]
    with mserver.services.db.read() as conn:
        kept = conn.execute(select(dsa_notices).where(dsa_notices.c.id == notice_id)).one()
    assert kept.notifier_name is None and kept.reporter is None
    assert bound and max(bound) <= 510


def test_no_action_is_refused_for_a_comment_a_moderator_rejected_meanwhile(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # A moderator rejected the comment before its notice was decided; "no action" went
    # through and told the notifier "the comment stays", though nobody could read it.
    # Only the outcomes that fit a removed comment are offered and taken.
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    comment_id = posted(ana, "Those people should all be driven out of town.")
    notice_id = notice(ben, comment_id).json()["notice"]["id"]
    rejected = http.post(f"/api/moderation/comments/{comment_id}/reject", headers=STAFF,
                         json={"reason": "Abusive"})
    assert rejected.status_code == 200, rejected.text
    [queued] = http.get("/api/moderation/notices", params={"site": site},
                        headers=STAFF).json()["notices"]
    assert queued["outcomes"] == ["illegal", "incompatible"]
    with mserver.client() as browser:
        page = _other_moderator(mserver, browser).get("/admin/notices", site=site).text
    [form] = lxml_html.fromstring(page).xpath(f'//article[@id="notice-{notice_id}"]//form')
    assert form.xpath('.//input[@name="outcome"]/@value') == ["illegal", "incompatible"]
    path = f"/api/moderation/notices/{notice_id}/decision"
    stays = http.post(path, headers=STAFF, json={"outcome": "no_action"})
    assert (stays.status_code, stays.json()["code"]) == (409, "comment_not_published")
    assert http.get(f"/api/moderation/notices/{notice_id}",
                    headers=STAFF).json()["notice"]["status"] == "open"
    decided = http.post(path, headers=STAFF, json={"outcome": "incompatible"})
    assert decided.status_code == 200, decided.text
    # Published again, "no action" fits once more.
    other_id = posted(ana, "A comment rejected, then published again.")
    other = notice(ben, other_id).json()["notice"]["id"]
    for action in ("reject", "approve"):
        assert http.post(f"/api/moderation/comments/{other_id}/{action}",
                         headers=STAFF).status_code == 200
    stays = http.post(f"/api/moderation/notices/{other}/decision", headers=STAFF,
                      json={"outcome": "no_action"})
    assert stays.status_code == 200, stays.text
    assert stays.json()["notice"]["outcomes"] == ["illegal", "incompatible", "no_action"]
