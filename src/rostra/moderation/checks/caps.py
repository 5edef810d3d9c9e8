"""All caps: a long comment written in capitals is shouting; hold it for a look."""

from __future__ import annotations

from collections.abc import Iterable

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action

_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_LOWER = bytes(range(ord("a"), ord("z") + 1))


def caps_ratio(text: str) -> tuple[float, int]:
    """(share of upper-case letters among cased letters, number of cased letters)."""
    if text.isascii():
        # The cased ASCII characters are A-Z and a-z: counted in C, not a call per letter.
        data = text.encode("ascii")
        upper = len(data) - len(data.translate(None, _UPPER))
        cased = upper + len(data) - len(data.translate(None, _LOWER))
    else:
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
