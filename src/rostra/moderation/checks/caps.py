"""All caps: a long comment written in capitals is shouting; hold it for a look."""

from __future__ import annotations

from collections.abc import Iterable

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action


def caps_ratio(text: str) -> tuple[float, int]:
    """(share of upper-case letters among cased letters, number of cased letters)."""
    cased = [ch for ch in text if ch.isupper() or ch.islower()]
    if not cased:
        return 0.0, 0
    upper = sum(1 for ch in cased if ch.isupper())
    return upper / len(cased), len(cased)


class CapsCheck:
    name = "caps"

    def run(self, item: Inspection) -> Iterable[Finding]:
        t = item.policy.thresholds
        ratio, letters = caps_ratio(item.draft.text)
        if letters >= t.caps_min_letters and ratio >= t.caps_ratio:
            yield finding(
                self.name, Action.HOLD, "all_caps",
                f"{ratio:.0%} of {letters} letters are capitals", round(ratio, 3),
            )
