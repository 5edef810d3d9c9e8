"""The pipeline's last steps in full: the site's mode (skipped for trusted authors and
edits), what a shadow-banned author is told, the facts a published comment keeps, and the
hooks run only for an accepted comment (the mutation run of moderation/pipeline.py)."""

from __future__ import annotations

from collections.abc import Iterable

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action, Reason
from rostra.moderation.pipeline import Pipeline
from rostra.moderation.policy import parse_policy
from tests.moderation.test_content_checks import draft


class Facts:
    """A check that only learns facts (as the trust and reputation checks do)."""

    name = "facts"

    def __init__(self, **facts: object) -> None:
        self.facts = facts

    def run(self, item: Inspection) -> Iterable[Finding]:
        item.facts.update(self.facts)
        return []


class Hooked:
    """A check that asks to be told when the comment is accepted, and says ``action``."""

    name = "hooked"

    def __init__(self, action: Action | None) -> None:
        self.action = action
        self.accepted = 0

    def run(self, item: Inspection) -> Iterable[Finding]:
        item.on_accept.append(self.accept)
        if self.action is not None:
            yield finding(self.name, self.action, "said_so", "the check said so")

    def accept(self) -> None:
        self.accepted += 1


def test_pre_moderation_holds_with_its_reason() -> None:
    decision, _ = Pipeline([]).decide(draft("Hello"), parse_policy({"mode": "all"}))
    assert decision.action is Action.HOLD
    assert decision.reasons == (
        Reason("policy", "pre_moderation", "the site holds every comment for review"),)
    assert decision.message == "Your comment is awaiting moderation."


def test_an_author_with_no_known_history_is_a_first_time_author() -> None:
    decision, _ = Pipeline([]).decide(draft("Hello"), parse_policy({"mode": "first_time"}))
    assert decision.action is Action.HOLD
    assert decision.reasons == (Reason(
        "policy", "first_time_author",
        "the site holds authors until one of their comments is approved"),)
    known = Facts(reputation={"approved": 2})
    published, _ = Pipeline([known]).decide(draft("Hello"), parse_policy({"mode": "first_time"}))
    assert published.action is Action.PUBLISH and published.reasons == ()


def test_a_trusted_author_skips_the_sites_mode() -> None:
    for mode in ("all", "first_time"):
        policy = parse_policy({"mode": mode})
        trusted, _ = Pipeline([Facts(trust={"level": "trusted"})]).decide(draft("Hi"), policy)
        assert trusted.action is Action.PUBLISH and trusted.reasons == (), mode
        regular, _ = Pipeline([Facts(trust={"level": "regular"})]).decide(draft("Hi"), policy)
        assert regular.action is Action.HOLD, mode


def test_a_shadow_banned_author_is_told_what_publishing_tells() -> None:
    # Held, but told nothing: without the ban it would have been published.
    shadow = Facts(shadow={"ban": 3, "kind": "ip"})
    decision, _ = Pipeline([shadow]).decide(
        draft("Hello"), parse_policy({"held_message": "A moderator will look at it soon."}))
    assert decision.action is Action.HOLD
    assert decision.reasons == (Reason("policy", "held_for_review", "held for review"),)
    assert decision.message is None
    assert decision.facts["shadow"] == {"ban": 3, "kind": "ip", "action": "publish",
                                        "reasons": []}
    assert decision.told == ()


def test_a_shadow_banned_author_is_told_what_any_held_author_is_told() -> None:
    # Where the site holds every comment, what any held author is told.
    shadow = Facts(shadow={"ban": 3, "kind": "ip"})
    decision, _ = Pipeline([shadow]).decide(draft("Hello"), parse_policy(
        {"mode": "all", "held_message": "A moderator will look at it soon."}))
    assert decision.action is Action.HOLD
    assert decision.message == "A moderator will look at it soon."
    assert decision.facts["shadow"]["action"] == "hold"
    assert decision.told == ("pre_moderation",)


class Says:
    """A check that asks for ``action`` with reason ``code``."""

    name = "says"

    def __init__(self, action: Action, code: str) -> None:
        self.action, self.code = action, code

    def run(self, item: Inspection) -> Iterable[Finding]:
        yield finding(self.name, self.action, self.code, "the check said so")


def test_spam_and_a_shadow_ban_tell_the_author_what_an_ordinary_hold_would() -> None:
    shadow = Facts(shadow={"ban": 3, "kind": "ip"})
    spam, links = Says(Action.SPAM, "blocklist"), Says(Action.HOLD, "too_many_links")
    note = Says(Action.PUBLISH, "nudge_acknowledged")
    post, held_all = parse_policy({}), parse_policy({"mode": "all"})
    cases = [
        # (checks, policy) -> what the author is told, as an ordinary hold of it says
        ([spam], post, ["held_for_review"]),
        ([spam, note], post, ["nudge_acknowledged", "held_for_review"]),
        ([spam, links], post, ["too_many_links"]),
        ([spam], held_all, ["pre_moderation"]),
        ([shadow], held_all, ["pre_moderation"]),
        ([shadow, links], post, ["too_many_links"]),
        ([shadow, spam, links], post, ["too_many_links"]),
        ([shadow, spam], post, ["held_for_review"]),
    ]
    for checks, policy, codes in cases:
        decision, _ = Pipeline(checks).decide(draft("Hello"), policy)
        assert decision.action in (Action.HOLD, Action.SPAM)
        assert decision.codes_for_author() == codes, (checks, codes)
        assert decision.message == "Your comment is awaiting moderation."
    # An ordinary hold tells its own reasons; spam keeps its real ones for moderators.
    held, _ = Pipeline([links]).decide(draft("Hello"), post)
    assert held.told is None and held.codes_for_author() == ["too_many_links"]
    filed, _ = Pipeline([spam, links]).decide(draft("Hello"), post)
    assert [r.code for r in filed.reasons] == ["blocklist", "too_many_links"]


def test_a_published_comment_keeps_the_facts_learned() -> None:
    learned = Facts(language="en", reputation={"approved": 1})
    decision, _ = Pipeline([learned]).decide(draft("Hello"), parse_policy({}))
    assert decision.action is Action.PUBLISH and decision.message is None
    assert decision.facts == {"language": "en", "reputation": {"approved": 1}}


def test_it_runs_the_accept_hooks_only_for_a_comment_it_does_not_refuse() -> None:
    for action, runs in ((None, 1), (Action.HOLD, 1), (Action.SPAM, 1), (Action.REFUSE, 0)):
        check = Hooked(action)
        Pipeline([check]).decide(draft("Hello"), parse_policy({}))
        assert check.accepted == runs, action
