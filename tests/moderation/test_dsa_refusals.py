"""What the DSA doors refuse: unknown notices and statements, decisions made twice, an
appeal against a decision already undone, appeal texts too long or with NUL characters,
and mistyped forms of the workspace's notices page."""

from __future__ import annotations

import secrets

import httpx

from tests.admin.conftest import PASSWORD, StaffMember, staff_service
from tests.conftest import ORIGIN, LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site
from tests.moderation.test_dsa import GROUNDS, notice, posted, statements

MISSING = 10**12


def _removed_with_statement(mserver: LiveServer, http: httpx.Client) -> tuple[Reader, int,
                                                                            dict[str, object]]:
    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    comment_id = posted(ana, "A comment that a moderator removes for breaking the rules.")
    removed = http.post(f"/api/moderation/comments/{comment_id}/reject", headers=STAFF,
                        json={"reason": "Off-topic"})
    assert removed.status_code == 200, removed.text
    [statement] = statements(ana, comment_id)
    return ana, comment_id, statement


def test_it_answers_404_for_notices_and_statements_that_do_not_exist(
    mserver: LiveServer, http: httpx.Client
) -> None:
    decided = http.post(f"/api/moderation/notices/{MISSING}/decision", headers=STAFF,
                        json={"outcome": "illegal"})
    assert (decided.status_code, decided.json()["detail"]) == (404, f"no notice with id {MISSING}")
    shown = http.get(f"/api/moderation/notices/{MISSING}", headers=STAFF)
    assert (shown.status_code, shown.json()["detail"]) == (404, f"no notice with id {MISSING}")
    appeal = http.post(f"/api/moderation/statements/{MISSING}/appeal-decision", headers=STAFF,
                       json={"outcome": "upheld"})
    assert appeal.status_code == 404
    assert appeal.json()["detail"] == f"no statement with id {MISSING}"


def test_it_refuses_an_appeal_against_another_comments_statement(
    mserver: LiveServer, http: httpx.Client
) -> None:
    ana, comment_id, statement = _removed_with_statement(mserver, http)
    other = posted(ana, "Another comment of Ana's, which nobody removed at all.")
    refused = ana.http.post(f"/api/comments/{other}/appeal", headers=ana.headers(other),
                            json={"statement_id": statement["id"],
                                  "text": "I appeal the removal of the other comment."})
    assert refused.status_code == 404
    assert refused.json()["detail"] == \
        f"no statement with id {statement['id']} for this comment"
    assert statements(ana, comment_id)[0]["appeal"] is None


def test_it_refuses_an_appeal_once_the_comment_is_published_again(
    mserver: LiveServer, http: httpx.Client
) -> None:
    ana, comment_id, statement = _removed_with_statement(mserver, http)
    approved = http.post(f"/api/moderation/comments/{comment_id}/approve", headers=STAFF,
                         json={})
    assert approved.status_code == 200, approved.text
    refused = ana.http.post(f"/api/comments/{comment_id}/appeal",
                            headers=ana.headers(comment_id),
                            json={"statement_id": statement["id"],
                                  "text": "Please publish my comment again."})
    assert refused.status_code == 422
    assert refused.json()["code"] == "nothing_to_appeal"


def test_it_decides_an_appeal_once(mserver: LiveServer, http: httpx.Client) -> None:
    ana, comment_id, statement = _removed_with_statement(mserver, http)
    appealed = ana.http.post(f"/api/comments/{comment_id}/appeal",
                             headers=ana.headers(comment_id),
                             json={"statement_id": statement["id"],
                                   "text": "It was on topic: the article is about it."})
    assert appealed.status_code == 201, appealed.text
    # The bearer token decided the removal; a staff account is another moderator.
    name = "d" + secrets.token_hex(5)
    staff_service(mserver).create_user(name, PASSWORD, is_admin=True)
    with mserver.client() as browser:
        other = StaffMember(name, browser)
        assert other.login().status_code == 303
        path = f"/admin/statements/{statement['id']}/appeal"
        bad = other.post(path, {"outcome": "maybe"})
        assert bad.status_code == 422 and "outcome: upheld or reversed" in bad.text
        first = other.post(path, {"outcome": "reversed", "reason": "On topic after all"},
                           headers={"Accept": "application/json"})
        assert first.status_code == 200, first.text
        assert first.json()["statement"]["appeal"]["outcome"] == "reversed"
        again = other.post(path, {"outcome": "upheld"}, headers={"Accept": "application/json"})
        assert (again.status_code, again.json()["code"]) == (409, "decided_already")
    assert comment_id in [c["id"] for c in ana.page("/war-story")["comments"]]


def test_the_statement_page_refuses_appeal_texts_the_api_cannot_send(
    mserver: LiveServer, http: httpx.Client
) -> None:
    ana, comment_id, statement = _removed_with_statement(mserver, http)
    token = mserver.app.app.state.dsa.tokens.statement_token(statement["id"])
    for text, error in [("x" * 5001, "text: at most 5000 characters"),
                        ("It was\x00 on topic, honestly.", "text: contains a NUL character")]:
        page = http.post("/dsa/statement", data={"token": token, "text": text},
                         headers={"Origin": ORIGIN})
        assert page.status_code == 400
        assert error in page.text
    assert statements(ana, comment_id)[0]["appeal"] is None


def test_the_notices_page_says_what_is_wrong_with_its_forms(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    comment_id = posted(ana, "Those people should all be driven out of the town.")
    sent = notice(ben, comment_id)
    assert sent.status_code == 201, sent.text
    notice_id = sent.json()["notice"]["id"]
    name = "n" + secrets.token_hex(5)
    staff_service(mserver).grant(staff_service(mserver).create_user(name, PASSWORD).id,
                                 site, "moderator")
    nobody = "z" + secrets.token_hex(5)
    staff_service(mserver).create_user(nobody, PASSWORD)
    with mserver.client() as browser, mserver.client() as elsewhere:
        mod = StaffMember(name, browser)
        assert mod.login().status_code == 303
        as_json = {"Accept": "application/json"}
        # A view the page does not know shows the open notices.
        listed = mod.http.get("/admin/notices", params={"site": site, "view": "all"},
                              headers=as_json)
        assert [n["id"] for n in listed.json()["items"]] == [notice_id]
        page = mod.page("/admin/notices", site=site, **{"from": "last week"})
        assert page.xpath('string(//p[@role="alert"])') == "from: a date such as 2026-01-31"
        period = mod.http.get("/admin/notices", params={
            "site": site, "from": "2026-01-01", "to": "2026-01-31"}, headers=as_json)
        assert period.json()["figures"]["period"] == {"from": "2026-01-01T00:00:00.000Z",
                                                     "to": "2026-02-01T00:00:00.000Z"}
        assert period.json()["figures"]["notices"]["total"] == 0
        bad_id = mod.post("/admin/notices/first/decide", {"outcome": "illegal"})
        assert bad_id.status_code == 422 and "notice: not an id" in bad_id.text
        bad = mod.post(f"/admin/notices/{notice_id}/decide", {"outcome": "awful"})
        assert bad.status_code == 422
        assert "outcome: illegal, incompatible, no_action or unavailable" in bad.text
        decided = mod.post(f"/admin/notices/{notice_id}/decide",
                           {"outcome": "no_action", "reason": "Opinion, not incitement"},
                           headers=as_json)
        assert decided.status_code == 200
        assert decided.json()["notice"]["outcome"] == "no_action"
        # Staff without a site see an empty page, not another site's notices.
        stranger = StaffMember(nobody, elsewhere)
        assert stranger.login().status_code == 303
        empty = stranger.page("/admin/notices")
        assert empty.xpath('//article[starts-with(@id,"notice-")]') == []
        assert "No sites to moderate." in empty.text_content()
