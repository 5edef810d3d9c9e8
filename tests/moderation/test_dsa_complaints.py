"""A notifier's complaint against a notice decided "no action" (DSA Art. 20(1): the
complaint right is the notifier's as well as the author's): once, for six months, by the
link in the decision's email, decided by a moderator other than the first decider."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update

from rostra.store.dsa_tables import dsa_notices
from rostra.store.moderation_tables import author_stats
from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site
from tests.moderation.test_dsa import GROUNDS, notice, posted, statements
from tests.moderation.test_dsa_end_to_end import _other_moderator

COMPLAINT = "It plainly calls for driving a group out of town; please look again."


def _decide(http: httpx.Client, notice_id: int, outcome: str) -> None:
    decided = http.post(f"/api/moderation/notices/{notice_id}/decision", headers=STAFF,
                        json={"outcome": outcome, "reason": "Sharp, but lawful"})
    assert decided.status_code == 200, decided.text


def test_a_notifier_complains_once_and_another_moderator_reverses_the_decision(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    comment_id = posted(ana, "Those people should all be driven out of the town.")
    notice_id = notice(ben, comment_id).json()["notice"]["id"]
    _decide(http, notice_id, "no_action")

    token = mserver.app.app.state.dsa.tokens.notice_token(notice_id)
    page = http.get("/dsa/notice", params={"token": token})
    assert page.status_code == 200 and 'id="complaint"' in page.text
    assert "Sharp, but lawful" in page.text and "driven out of the town" in page.text
    sent = http.post("/dsa/notice", data={"token": token, "text": COMPLAINT})
    assert sent.status_code == 200 and 'id="thanks"' in sent.text
    again = http.post("/dsa/notice", data={"token": token, "text": COMPLAINT})
    assert again.status_code == 400 and 'id="complaint"' not in again.text
    assert http.get("/dsa/notice", params={"token": "forged"}).status_code == 404

    waiting = http.get("/api/moderation/complaints", params={"site": site},
                       headers=STAFF).json()["complaints"]
    assert [(c["id"], c["complaint"]["text"]) for c in waiting] == [(notice_id, COMPLAINT)]
    # The moderator who decided the notice may not decide the complaint.
    same = http.post(f"/api/moderation/notices/{notice_id}/complaint-decision",
                     headers=STAFF, json={"outcome": "reversed"})
    assert (same.status_code, same.json()["code"]) == (403, "same_moderator")
    assert statements(ana, comment_id) == []

    with mserver.client() as browser:
        other = _other_moderator(mserver, browser)
        listed = other.get("/admin/notices", site=site, view="appeals")
        assert f'id="complaint-{notice_id}"' in listed.text and COMPLAINT in listed.text
        reversed_ = other.post(f"/admin/notices/{notice_id}/complaint",
                               {"outcome": "reversed", "reason": "A call to expel a group"},
                               headers={"Accept": "application/json"})
        assert reversed_.status_code == 200, reversed_.text
        assert reversed_.json()["notice"]["complaint"]["outcome"] == "reversed"
        decided = other.get("/admin/notices", site=site, view="decided").text
        assert "The notifier complained: reversed, the comment removed" in decided
        audit = other.get("/admin/audit", site=site).text
        assert "dsa_complaint" in audit and "dsa_complaint_decision" in audit
        twice = other.post(f"/admin/notices/{notice_id}/complaint", {"outcome": "upheld"},
                           headers={"Accept": "application/json"})
        assert (twice.status_code, twice.json()["code"]) == (409, "decided_already")

    # Reversed: the comment is removed on the notice, with a statement for its author,
    # and the upheld notice counts against them.
    assert comment_id not in [c["id"] for c in ana.page("/war-story")["comments"]]
    [statement] = statements(ana, comment_id)
    assert (statement["source"], statement["ground_kind"]) == ("notice", "illegal")
    assert "A call to expel a group" in statement["facts"] and statement["appealable"]
    with mserver.services.db.read() as conn:
        counted = conn.execute(select(author_stats.c.notices).where(
            author_stats.c.site_id == site)).scalars().all()
    assert counted == [1]
    figures = http.get("/api/moderation/transparency", params={"site": site},
                       headers=STAFF).json()["appeals"]
    assert figures["total"] == 1 and figures["by_outcome"] == {"reversed": 1}
    assert figures["by_complainant"] == {"author": 0, "notifier": 1}


def test_a_complaint_is_taken_against_no_action_for_six_months_only(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    tokens = mserver.app.app.state.dsa.tokens
    removed = posted(ana, "A comment a moderator removes on the notice about it.")
    old = posted(ana, "A comment kept seven months ago; too late to complain now.")
    removed_notice, old_notice = (notice(ben, c).json()["notice"]["id"] for c in (removed, old))
    _decide(http, removed_notice, "illegal")
    _decide(http, old_notice, "no_action")
    with mserver.services.db.write() as conn:
        conn.execute(update(dsa_notices).where(dsa_notices.c.id == old_notice).values(
            decided_at=datetime.now(UTC) - timedelta(days=7 * 31)))

    nothing = http.post("/dsa/notice", data={"token": tokens.notice_token(removed_notice),
                                             "text": COMPLAINT})
    assert nothing.status_code == 400 and 'id="complaint"' not in nothing.text
    late = http.post("/dsa/notice", data={"token": tokens.notice_token(old_notice),
                                          "text": COMPLAINT})
    assert late.status_code == 400 and 'id="closed"' in late.text
    assert http.get("/api/moderation/complaints", params={"site": site, "all": True},
                    headers=STAFF).json()["complaints"] == []


def test_notifiers_complaints_and_authors_appeals_are_limited_apart(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # The complaint form (/dsa/notice) counted in the authors' appeal bucket: a reader
    # who had used up their appeals could not complain about a notice, and the reverse.
    # Each has its own now (rate_limits.appeal, rate_limits.complaint: 10 an hour).
    for spent, still_open in (("/dsa/statement", "/dsa/notice"),
                              ("/dsa/notice", "/dsa/statement")):
        reader = {"X-Forwarded-For": f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::1",
                  "X-Rostra-Voter": secrets.token_hex(8)}
        form = {"token": "not-a-token", "text": COMPLAINT}
        answers = [http.post(spent, headers=reader, data=form).status_code
                   for _ in range(11)]
        assert answers.count(429) == 1 and answers[-1] == 429, answers
        assert http.post(still_open, headers=reader, data=form).status_code != 429
