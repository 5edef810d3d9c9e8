"""Reputation: the author's approved/rejected history on the site. An author whose
comments moderators mostly threw out is held; the history is kept as a fact for the
policy step (first-time authors) and for moderators."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action
from rostra.moderation.identity import Hashing, identity_for


@dataclass(frozen=True, slots=True)
class History:
    approved: int = 0
    rejected: int = 0
    spam: int = 0
    notices: int = 0  # DSA notices against the author's comments that were upheld


# (site id, author key) -> the author's history (zeros when unknown)
HistoryLookup = Callable[[str, str], History]


class ReputationCheck:
    name = "reputation"

    def __init__(self, lookup: HistoryLookup, hashing: Hashing) -> None:
        self.lookup = lookup
        self.hashing = hashing

    def run(self, item: Inspection) -> Iterable[Finding]:
        author = identity_for(item, self.hashing).author
        history = self.lookup(item.draft.site_id, author) if author else History()
        item.facts["reputation"] = {
            "approved": history.approved, "rejected": history.rejected, "spam": history.spam,
        }
        bad = history.rejected + history.spam
        line = item.policy.thresholds.bad_history
        if line and bad >= line and bad > history.approved:
            yield finding(
                self.name, Action.HOLD, "bad_history",
                f"{bad} of the author's comments were rejected or spam, {history.approved} "
                "approved", float(bad),
            )
