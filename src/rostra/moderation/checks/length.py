"""Length: refuse texts too short to say anything, hold very long ones for a look."""

from __future__ import annotations

from collections.abc import Iterable

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action


class LengthCheck:
    name = "length"

    def run(self, item: Inspection) -> Iterable[Finding]:
        t = item.policy.thresholds
        length = len(item.draft.text.strip())
        if length < t.min_length:
            yield finding(
                self.name, Action.REFUSE, "too_short",
                f"{length} characters, the site asks for at least {t.min_length}",
                author_message=f"Please write at least {t.min_length} characters.",
            )
        elif t.hold_length and length > t.hold_length:
            yield finding(
                self.name, Action.HOLD, "very_long",
                f"{length} characters, more than the {t.hold_length} published unseen",
            )
