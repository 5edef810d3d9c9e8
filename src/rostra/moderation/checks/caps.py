"""All caps: a long comment written in capitals is shouting; hold it for a look."""

from __future__ import annotations

from collections.abc import Iterable

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action


def caps_ratio(text: str) -> tuple[float, int]:
    """(share of upper-case letters among cased letters, number of cased letters)."""
    upper = sum(map(str.isupper, text))
    cased = upper + sum(map(str.islower, text))
    if not cased:
        return 0.0, 0
    return upper / cased, cased


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
