"""The workspace's notices page: the queue of DSA notices with deadlines, decisions, and
appeals that only a moderator other than the first decider may decide."""

from __future__ import annotations

from tests.admin.conftest import Newsroom, parse
from tests.conftest import ORIGIN


def test_it_works_notices_and_appeals_from_the_workspace(newsroom: Newsroom) -> None:
    server, site = newsroom.server, newsroom.site_a
    server.add_site(site, [ORIGIN], moderation={"toxicity": False, "dsa": {
        "grounds": [{"code": "threat", "label": "Threat (§241 StGB)"}], "notice_hours": 2}})
    ana, ben = newsroom.reader("Ana"), newsroom.reader("Ben")
    posted = ana.post("/story/1", "I know where the reporter lives, and I will visit.")
    comment_id = posted.json()["comment"]["id"]
    sent = ben.http.post(f"/api/comments/{comment_id}/notices", headers=ben.headers(), json={
        "ground": "threat", "explanation": "A threat against the reporter.",
        "email": "ben@readers.example", "good_faith": True})
    assert sent.status_code == 201, sent.text
    notice_id = sent.json()["notice"]["id"]

    doc = newsroom.owner.page("/admin/notices", site=site)
    [item] = doc.xpath(f'//article[@id="notice-{notice_id}"]')
    assert "Threat (§241 StGB)" in item.text_content()
    assert "ben@readers.example" not in newsroom.owner.get("/admin/notices", site=site).text
    assert item.get("data-overdue") == "false"
    # Another site's moderator sees nothing of it.
    assert newsroom.outsider.get("/admin/notices", site=site).status_code == 403

    decided = newsroom.owner.post(f"/admin/notices/{notice_id}/decide",
                                  {"outcome": "illegal", "reason": "A threat"})
    assert decided.status_code == 303
    doc = newsroom.owner.page("/admin/notices", site=site, view="decided")
    assert "Removed as illegal" in doc.xpath(f'//article[@id="notice-{notice_id}"]')[0].text_content()

    statement = ana.http.get(f"/api/comments/{comment_id}/statements",
                             headers=ana.headers(comment_id)).json()["statements"][0]
    appealed = ana.http.post(f"/api/comments/{comment_id}/appeal", headers=ana.headers(comment_id),
                             json={"statement_id": statement["id"],
                                   "text": "It was a joke between colleagues."})
    assert appealed.status_code == 201, appealed.text

    # The owner decided first: the page offers them no form, and the route refuses.
    doc = newsroom.owner.page("/admin/notices", site=site, view="appeals")
    [appeal] = doc.xpath(f'//article[@id="appeal-{statement["id"]}"]')
    assert appeal.xpath(".//form") == []
    refused = newsroom.owner.post(f"/admin/statements/{statement['id']}/appeal",
                                  {"outcome": "reversed"})
    assert refused.status_code == 403
    doc = newsroom.moderator.page("/admin/notices", site=site, view="appeals")
    assert doc.xpath(f'//article[@id="appeal-{statement["id"]}"]//form')
    upheld = newsroom.moderator.post(f"/admin/statements/{statement['id']}/appeal",
                                     {"outcome": "upheld", "reason": "A threat is no joke"})
    assert upheld.status_code == 303
    doc = newsroom.moderator.page("/admin/notices", site=site, view="appeals")
    [appeal] = doc.xpath(f'//article[@id="appeal-{statement["id"]}"]')
    assert appeal.get("data-outcome") == "upheld"
    figures = doc.xpath('//table[contains(@class,"figures")]')[0].text_content()
    assert "threat: 1" in figures and "upheld: 1" in figures
    # Forms without the session's CSRF token are refused.
    assert newsroom.moderator.post(f"/admin/notices/{notice_id}/decide",
                                   {"outcome": "no_action"}, csrf=False).status_code == 403
    audit = newsroom.owner.page("/admin/audit", site=site).text_content()
    assert "dsa_notice_decision" in audit and "dsa_appeal_decision" in audit
    assert parse(newsroom.owner.get("/admin/notices", site=site)).xpath(
        '//nav//a[@aria-current="page"]/text()') == ["Notices"]
