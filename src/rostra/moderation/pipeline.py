"""The pipeline: the checks in a fixed order, their findings combined into a Decision.

The order (cheap and decisive first; a refusal stops the pipeline, so a banned,
throttled or unproven request never reaches the classifier):

1. ``bans``        banned author: refused; shadow-banned: noted (see step 13)
2. ``rate_limit``  too many posts per author key or thread: refused (HTTP 429)
3. ``pow``         proof of work missing, wrong, expired or replayed: refused
3b. ``trust``      earned trust: the author's level noted; the site's rules for
                   commenters it does not know yet (first comments, links, young
                   accounts): held; trusted authors skip them, the nudge below its
                   hold line and the policy mode
4. ``length``      too short: refused; very long: held
5. ``links``       blocked domain: spam; too many links: held
6. ``words``       blocklist: refused/spam/held as the site chose; suspect words: held
7. ``caps``        shouting: held
8. ``duplicates``  same text again by the author: held; copy-paste flood: spam
9. ``language``    detected language kept; a language the site does not take: held
10. ``toxicity``   over the refusal line: refused; over the nudge line and not yet
                   acknowledged: refused with code ``nudge``; over the hold line: held
11. ``reputation`` author's comments mostly rejected: held
12. policy mode    ``all``: held; ``first_time``: held until one comment was approved
                   (neither for a trusted author)
13. shadow ban     whatever is not refused is stored held; its author is shown it
                   published where it would have been, else told only what an
                   ordinary hold would say (as is the author of spam)

The combined action is the most severe asked for (refuse > spam > hold > publish); the
decision keeps every finding's reason with its score. Checks are added by writing a
module in ``checks/`` and listing it in ``rostra.moderation.engine.build_checks``.
"""

from __future__ import annotations

from collections.abc import Sequence

from rostra.moderation.checks import Check, Finding, Inspection, finding
from rostra.moderation.decision import Action, Decision, Draft, Reason
from rostra.moderation.policy import Mode, Policy

# What the author of a held comment is told when nothing they could see held it.
HELD_FOR_REVIEW = "held_for_review"


class Pipeline:
    def __init__(self, checks: Sequence[Check]) -> None:
        self.checks = list(checks)

    def inspect(self, draft: Draft, policy: Policy) -> Inspection:
        """Run the checks on ``draft``; the Inspection holds findings and facts."""
        item = Inspection(draft, policy)
        findings = item.findings
        for check in self.checks:
            refused = False
            for found in check.run(item):
                findings.append(found)
                refused = refused or found.action is Action.REFUSE
            if refused:
                return item
        item.findings.extend(policy_findings(item))
        return item

    def decide(self, draft: Draft, policy: Policy) -> tuple[Decision, Inspection]:
        item = self.inspect(draft, policy)
        decision = combine(item)
        if decision.action is not Action.REFUSE:
            for accept in item.on_accept:
                accept()
        return decision, item


def policy_findings(item: Inspection) -> list[Finding]:
    """Step 12: the site's mode, for a comment no check refused."""
    if item.is_edit or (item.facts.get("trust") or {}).get("level") == "trusted":
        return []  # trusted authors skip pre-moderation
    mode = item.policy.mode
    if mode is Mode.ALL:
        return [finding("policy", Action.HOLD, "pre_moderation",
                        "the site holds every comment for review")]
    if mode is Mode.FIRST_TIME:
        approved = int(item.facts.get("reputation", {}).get("approved", 0))
        if approved == 0:
            return [finding("policy", Action.HOLD, "first_time_author",
                            "the site holds authors until one of their comments is approved")]
    return []


def combine(item: Inspection) -> Decision:
    """The Decision for an inspected draft (step 13, shadow bans, included)."""
    policy = item.policy
    action = item.action
    reasons = tuple(f.reason for f in item.findings)
    facts = dict(item.facts)
    if action is Action.REFUSE:
        refusing = next(f for f in item.findings if f.action is Action.REFUSE)
        if refusing.retry_after is not None:
            facts["retry_after"] = refusing.retry_after
        return Decision(Action.REFUSE, reasons, refusing.message or policy.refused_message,
                        facts)
    if "shadow" in facts:
        # Stored as held, so nobody but the author (through their edit token) sees it. The
        # real reasons stay with the facts for moderators. The author is told what the
        # comment would have met without the ban: published (no message, no reasons;
        # ``shown_state`` shows it to them as approved) where it would have been
        # published, else what an ordinary hold would say. A held answer on a site that
        # publishes everyone else's at once would announce the ban.
        facts["shadow"] = {**facts["shadow"], "action": action.value,
                           "reasons": [r.to_json() for r in reasons]}
        published = action is Action.PUBLISH
        return Decision(
            Action.HOLD,
            (Reason("policy", HELD_FOR_REVIEW, "held for review"),),
            None if published else policy.held_message,
            facts,
            told=() if published else told_as_held(item),
        )
    if action is Action.SPAM:
        # Spam is shown to its author as held: no need to tell a spammer what was caught.
        return Decision(action, reasons, policy.held_message, facts,
                        told=told_as_held(item))
    if action is Action.HOLD:
        return Decision(action, reasons, policy.held_message, facts)
    return Decision(Action.PUBLISH, reasons, None, facts)


def told_as_held(item: Inspection) -> tuple[str, ...]:
    """The codes the author of a comment filed as spam, or held for a shadow ban, is
    told: those an ordinary hold of it would give (every finding but the spam ones: the
    site's mode, too many links...), and ``held_for_review`` where none of them holds it.
    The spam codes (``blocklist``, ``spam_score``) would tell a spammer what was caught."""
    kept = [f for f in item.findings if f.action is not Action.SPAM]
    codes = tuple(f.reason.code for f in kept)
    if not any(f.action is Action.HOLD for f in kept):
        codes += (HELD_FOR_REVIEW,)
    return codes
