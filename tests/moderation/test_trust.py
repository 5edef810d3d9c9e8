"""Earned trust through HTTP on a live server: the site's rules for commenters it does
not know yet, each the reason in the queue, trust earned by approvals and lost by
rejections and upheld notices, and trusted commenters skipping pre-moderation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rostra.core.errors import InvalidInput
from rostra.moderation.checks import Inspection
from rostra.moderation.checks.reputation import History
from rostra.moderation.checks.toxicity import ToxicityCheck
from rostra.moderation.decision import Draft
from rostra.moderation.policy import parse_policy
from rostra.moderation.trust import TrustLevel, trust_level
from tests.api.test_sso import signed
from tests.conftest import ORIGIN, LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site


def codes(response: httpx.Response) -> list[str]:
    assert response.status_code == 201, response.text
    comment_id = response.json()["comment"]["id"]
    staff = httpx.get(f"{response.request.url.scheme}://{response.request.url.netloc.decode()}"
                      f"/api/moderation/comments/{comment_id}", headers=STAFF).json()
    return [r["code"] for r in staff["comment"]["moderation"]["reasons"]]


def decide(http: httpx.Client, response: httpx.Response, action: str) -> None:
    comment_id = response.json()["comment"]["id"]
    done = http.post(f"/api/moderation/comments/{comment_id}/{action}", headers=STAFF)
    assert done.status_code == 200, done.text


def test_it_computes_levels_from_the_history() -> None:
    assert trust_level(History(), 5) is TrustLevel.NEW
    assert trust_level(History(approved=4), 5) is TrustLevel.KNOWN
    assert trust_level(History(approved=5), 5) is TrustLevel.TRUSTED
    assert trust_level(History(approved=8, rejected=1), 5) is TrustLevel.TRUSTED
    assert trust_level(History(approved=8, rejected=2), 5) is TrustLevel.KNOWN
    assert trust_level(History(approved=12, notices=1), 5) is TrustLevel.KNOWN
    assert trust_level(History(approved=1, spam=1), 5) is TrustLevel.WATCHED


def test_it_refuses_bad_trust_rules() -> None:
    with pytest.raises(InvalidInput, match="moderation.trust.first_comments_held"):
        parse_policy({"trust": {"first_comments_held": -1}})
    with pytest.raises(InvalidInput, match="moderation.trust"):
        parse_policy({"trust": {"first_comments": 2}})


def test_it_holds_a_commenters_first_comments_until_approved(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, trust={"first_comments_held": 2})
    ana = Reader("Ana", http, site)
    first = ana.post("/t", "My first comment on this site, hello everyone.")
    assert first.json()["comment"]["state"] == "pending"
    assert "trust_first_comments" in codes(first)
    decide(http, first, "approve")
    second = ana.post("/t", "My second comment, still waiting for a moderator.")
    assert second.json()["comment"]["state"] == "pending"
    decide(http, second, "approve")
    third = ana.post("/t", "My third comment goes straight through now.")
    assert third.json()["comment"]["state"] == "approved"


def test_it_holds_links_from_commenters_with_too_few_approved(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, trust={"links_need_approved": 1})
    ben = Reader("Ben", http, site)
    plain = ben.post("/t", "No links in this one, just words about the story.")
    assert plain.json()["comment"]["state"] == "approved"
    linked = ben.post("/t", "See https://example.org/report for the source.")
    assert linked.json()["comment"]["state"] == "pending"
    assert "trust_links" in codes(linked)
    decide(http, plain, "approve")
    again = ben.post("/t", "And https://example.org/minutes for the minutes.")
    assert again.json()["comment"]["state"] == "approved"


def test_it_holds_comments_from_young_accounts(mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver, trust={"account_min_days": 3})
    secret = mserver.services.accounts.make_secret(site)
    sso = signed(secret, id="fresh", name="Fresh Account")
    response = http.post("/api/comments", headers={"Origin": ORIGIN, "X-Rostra-SSO": sso},
                         json={"site": site, "thread": "/t", "text": "Hello from a new account."})
    assert response.json()["comment"]["state"] == "pending"
    assert "trust_new_account" in codes(response)
    anonymous = Reader("Cy", http, site).post("/t", "Anonymous readers are not accounts.")
    assert anonymous.json()["comment"]["state"] == "approved"


def test_trusted_commenters_skip_pre_moderation_until_they_lose_trust(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, mode="all", trust={"trusted_after": 2})
    dee = Reader("Dee", http, site)
    for n in range(2):
        held = dee.post("/t", f"Comment number {n} waits for a moderator to approve it.")
        assert held.json()["comment"]["state"] == "pending"
        decide(http, held, "approve")
    trusted = dee.post("/t", "Now the site trusts me: this goes live at once.")
    assert trusted.json()["comment"]["state"] == "approved"
    staff = http.get(f"/api/moderation/comments/{trusted.json()['comment']['id']}",
                     headers=STAFF).json()["comment"]
    assert staff["moderation"]["facts"]["trust"] == {"level": "trusted", "score": 2}
    decide(http, trusted, "reject")
    after = dee.post("/t", "After a rejection I am held again, as everyone is.")
    assert after.json()["comment"]["state"] == "pending"
    assert "pre_moderation" in codes(after)


def test_an_upheld_notice_costs_trust(mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver, mode="all", trust={"trusted_after": 1})
    eve, fay = Reader("Eve", http, site), Reader("Fay", http, site)
    first = eve.post("/t", "A first comment that a moderator approves quickly.")
    decide(http, first, "approve")
    trusted = eve.post("/t", "A trusted comment that a reader reports as illegal.")
    assert trusted.json()["comment"]["state"] == "approved"
    sent = http.post(f"/api/comments/{trusted.json()['comment']['id']}/notices",
                     headers=fay.headers(), json={
                         "ground": "other",
                         "explanation": "It accuses a named neighbour of a crime.",
                         "good_faith": True})
    assert sent.status_code == 201, sent.text
    http.post(f"/api/moderation/notices/{sent.json()['notice']['id']}/decision",
              headers=STAFF, json={"outcome": "illegal"})
    after = eve.post("/t", "Held again: the removal and the notice cost my trust.")
    assert after.json()["comment"]["state"] == "pending"
    staff = http.get(f"/api/moderation/comments/{after.json()['comment']['id']}",
                     headers=STAFF).json()["comment"]
    assert staff["moderation"]["facts"]["trust"]["level"] == "watched"


class Scores:
    """A classifier stand-in with fixed scores."""

    def __init__(self, abusive: float) -> None:
        self.abusive = abusive

    def assess(self, site_id: str, text: str) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(embedding=None, classes={
            "abusive": self.abusive, "insult": self.abusive, "threat": 0.0,
            "identity_hate": 0.0, "profanity": 0.0, "spam": 0.0})

    def explain(self, text: str, head: str) -> dict[str, Any]:
        return {}


def test_a_trusted_author_gets_a_lighter_nudge() -> None:
    from datetime import UTC, datetime

    policy = parse_policy({})
    line = (policy.thresholds.toxicity_nudge + policy.thresholds.toxicity_hold) / 2
    draft = Draft(site_id="s", thread_id=None, thread_key="k", parent_id=None,
                  text="You are quite wrong, as usual, you fool.", author_name="A",
                  author_email=None, author_website=None, ip_hash=None, voter_id=None,
                  account_id=None, created_at=datetime.now(UTC))
    check = ToxicityCheck(Scores(line))
    new = Inspection(draft, policy, facts={"trust": {"level": "new"}})
    trusted = Inspection(draft, policy, facts={"trust": {"level": "trusted"}})
    assert [f.reason.code for f in check.run(new)] == ["nudge"]
    assert [f.reason.code for f in check.run(trusted)] == ["trusted_not_nudged"]
