"""Duplicate and near-duplicate texts: the same author again, and copy-paste floods."""

from __future__ import annotations

from typing import Any

from rostra.moderation.checks import Inspection
from rostra.moderation.checks.duplicates import DuplicateCheck, signature, similarity
from rostra.moderation.checks.length import LengthCheck
from rostra.moderation.decision import Action
from rostra.moderation.pipeline import Pipeline
from rostra.moderation.policy import parse_policy
from tests.moderation.test_content_checks import draft

SPAM = "Make 5000 dollars a week from home with this one simple trick, ask me how today"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def codes(check: DuplicateCheck, text: str, policy: dict[str, Any] | None = None,
          **kwargs: Any) -> list[tuple[Action, str]]:
    item = Inspection(draft(text, **kwargs), parse_policy(policy or {}))
    found = [(f.action, f.reason.code) for f in check.run(item)]
    for accept in item.on_accept:  # as the pipeline does for a comment it accepts
        accept()
    return found


def test_it_scores_near_copies_as_similar_and_other_texts_not() -> None:
    a = signature(SPAM)
    b = signature(SPAM.replace("today", "today!!!").upper())
    c = signature("The council voted to keep the library open on Sundays after all")
    assert a is not None and b is not None and c is not None
    assert similarity(a, b) >= 0.8
    assert similarity(a, c) < 0.2


def test_it_holds_the_same_author_repeating_themselves() -> None:
    check = DuplicateCheck()
    assert codes(check, SPAM, voter_id="v1", ip_hash="ip1") == []
    assert codes(check, SPAM + "!", voter_id="v1", ip_hash="ip2", thread_key="/b") == [
        (Action.HOLD, "duplicate")]


def test_it_marks_a_flood_across_authors_and_threads_as_spam() -> None:
    check = DuplicateCheck()
    results = [
        codes(check, SPAM, voter_id=f"v{i}", ip_hash=f"ip{i}", thread_key=f"/t{i}")
        for i in range(3)
    ]
    assert results[0] == [] and results[1] == []
    assert results[2] == [(Action.SPAM, "copy_paste_flood")]


def test_it_ignores_short_common_replies() -> None:
    check = DuplicateCheck()
    for i in range(5):
        assert codes(check, "I agree!", voter_id=f"v{i}") == []


def test_it_forgets_after_the_window() -> None:
    clock = Clock()
    check = DuplicateCheck(clock=clock)
    policy = {"thresholds": {"duplicate_window_seconds": 600}}
    assert codes(check, SPAM, policy) == []
    clock.now += 601
    assert codes(check, SPAM, policy) == []


def test_it_keeps_sites_apart() -> None:
    check = DuplicateCheck()
    assert codes(check, SPAM, site_id="one") == []
    assert codes(check, SPAM, site_id="two") == []


def test_it_does_not_remember_a_refused_draft() -> None:
    check = DuplicateCheck()
    pipeline = Pipeline([check, LengthCheck()])
    refused, _ = pipeline.decide(draft(SPAM), parse_policy({"thresholds": {"min_length": 500}}))
    assert refused.action is Action.REFUSE
    again, _ = pipeline.decide(draft(SPAM), parse_policy({}))
    assert again.action is Action.PUBLISH
