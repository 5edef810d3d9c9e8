"""The pipeline: fixed order, a refusal stops it, the most severe finding wins, the
site's mode applies last, and a shadow ban hides itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rostra.moderation.checks import Finding, Inspection
from rostra.moderation.checks.caps import CapsCheck
from rostra.moderation.checks.length import LengthCheck
from rostra.moderation.checks.links import LinkCheck
from rostra.moderation.checks.reputation import History, ReputationCheck
from rostra.moderation.decision import Action
from rostra.moderation.pipeline import Pipeline
from rostra.moderation.policy import parse_policy
from tests.moderation.test_content_checks import draft


class Recorder:
    """A check that records that it ran (to see where the pipeline stopped)."""

    name = "recorder"

    def __init__(self) -> None:
        self.ran = 0

    def run(self, item: Inspection) -> Iterable[Finding]:
        self.ran += 1
        return []


def test_it_stops_at_a_refusal() -> None:
    recorder = Recorder()
    pipeline = Pipeline([LengthCheck(), recorder])
    decision, _ = pipeline.decide(draft("hi"), parse_policy({"thresholds": {"min_length": 5}}))
    assert decision.action is Action.REFUSE and recorder.ran == 0
    assert decision.message == "Please write at least 5 characters."


def test_it_keeps_every_reason_and_takes_the_most_severe_action() -> None:
    pipeline = Pipeline([LinkCheck(), CapsCheck()])
    text = "BUY NOW AT HTTP://PILLS.EXAMPLE AND HTTP://A.EXAMPLE HTTP://B.EXAMPLE HTTP://C.EXAMPLE"
    decision, _ = pipeline.decide(draft(text), parse_policy({"blocked_domains": ["pills.example"]}))
    assert decision.action is Action.SPAM
    assert [r.code for r in decision.reasons] == ["blocked_domain", "too_many_links", "all_caps"]
    assert decision.message == "Your comment is awaiting moderation."


def test_it_publishes_when_nothing_objects() -> None:
    decision, _ = Pipeline([LinkCheck()]).decide(draft("A fair point."), parse_policy({}))
    assert decision.action is Action.PUBLISH and decision.message is None


def test_it_holds_everything_or_first_time_authors_as_the_site_says() -> None:
    known = ReputationCheck(lambda site, author: History(approved=1), "salt")
    new = ReputationCheck(lambda site, author: History(), "salt")
    first_time = parse_policy({"mode": "first_time"})
    assert Pipeline([new]).decide(draft("Hello"), first_time)[0].action is Action.HOLD
    assert Pipeline([known]).decide(draft("Hello"), first_time)[0].action is Action.PUBLISH
    held, _ = Pipeline([known]).decide(draft("Hello"), parse_policy({"mode": "all"}))
    assert [r.code for r in held.reasons] == ["pre_moderation"]
    # An edit is judged on its content alone.
    edit = draft("Hello", extras={"edit": True})
    assert Pipeline([new]).decide(edit, first_time)[0].action is Action.PUBLISH


def test_it_holds_authors_with_a_bad_history() -> None:
    bad = ReputationCheck(lambda site, author: History(approved=1, rejected=2, spam=1), "salt")
    decision, _ = Pipeline([bad]).decide(draft("Hello"), parse_policy({}))
    assert decision.action is Action.HOLD
    assert decision.reasons[0].code == "bad_history" and decision.reasons[0].score == 3.0
    assert decision.facts["reputation"] == {"approved": 1, "rejected": 2, "spam": 1}


class Shadow:
    name = "bans"

    def run(self, item: Inspection) -> Iterable[Finding]:
        item.facts["shadow"] = {"ban": 7, "kind": "voter"}
        return []


def test_it_disguises_a_shadow_ban_as_an_ordinary_hold() -> None:
    decision, _ = Pipeline([Shadow(), CapsCheck()]).decide(
        draft("THIS IS SHOUTING AT EVERYONE IN THE THREAD"), parse_policy({}))
    assert decision.action is Action.HOLD
    assert [r.code for r in decision.reasons] == ["held_for_review"]
    shadow: dict[str, Any] = decision.facts["shadow"]
    assert shadow["ban"] == 7 and shadow["action"] == "hold"
    assert [r["code"] for r in shadow["reasons"]] == ["all_caps"]
