"""Toxicity: the classifier's score (the shipped head blended with the site's learned
head) against the site's lines: nudge the author once, hold, or refuse."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action

NUDGE_MESSAGE = (
    "Your comment may come across as hurtful to others. Would you like to rephrase it? "
    "You can also send it as it is."
)
REFUSE_MESSAGE = "This comment cannot be published: it reads as abusive."

# The encoders read a fragment of a few words poorly. Of 25 short civil replies tried
# ("Agreed.", "Nice one.", "Súhlasím.", "LOL", "A first look.", "What a mess.") five
# scored 0.65-0.91, over the default nudge and hold lines, while ten short insults in four
# languages scored 0.93 and up. Under SHORT_WORDS words a comment is nudged or held only
# from SHORT_TEXT_LINE on; the refusal line, and the word lists, apply as to any comment.
SHORT_WORDS = 4
SHORT_TEXT_LINE = 0.92


class Classifier(Protocol):
    """What this check needs from the toxicity classifier (see rostra.moderation.model)."""

    encoder: str

    def embed(self, text: str) -> Any: ...

    def toxicity(self, site_id: str, embedding: Any) -> float: ...

    def assess(self, site_id: str, text: str) -> tuple[float, Any]: ...


class ToxicityCheck:
    name = "toxicity"

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    def run(self, item: Inspection) -> Iterable[Finding]:
        if not item.policy.toxicity:
            return
        draft, t = item.draft, item.policy.thresholds
        # Called on a worker thread (the post handler hands the post to its posting
        # thread; edits run as sync routes in the pool), so scoring never blocks the loop.
        raw_score, embedding = self.classifier.assess(draft.site_id, draft.text)
        score = round(float(raw_score), 4)
        item.scratch["embedding"] = embedding
        item.facts["toxicity"] = score
        nudge_line, hold_line, short = t.toxicity_nudge, t.toxicity_hold, ""
        if len(draft.text.split()) < SHORT_WORDS:
            nudge_line = max(nudge_line, SHORT_TEXT_LINE)
            hold_line = max(hold_line, SHORT_TEXT_LINE)
            short = f" (a text of under {SHORT_WORDS} words: lines from {SHORT_TEXT_LINE:.2f})"
        if score >= t.toxicity_refuse:
            yield finding(self.name, Action.REFUSE, "toxic",
                          f"toxicity {score:.2f} at or over the refusal line "
                          f"{t.toxicity_refuse:.2f}", score, author_message=REFUSE_MESSAGE)
            return
        acknowledged = bool(draft.extras.get("nudge_acknowledged"))
        if score >= nudge_line and not acknowledged and not item.is_edit:
            yield finding(self.name, Action.REFUSE, "nudge",
                          f"toxicity {score:.2f}: the author is asked to reconsider{short}",
                          score, author_message=NUDGE_MESSAGE)
            return
        if score >= hold_line:
            yield finding(self.name, Action.HOLD, "toxic",
                          f"toxicity {score:.2f} at or over the hold line {hold_line:.2f}"
                          + (" (the author was nudged and sent it anyway)" if acknowledged else "")
                          + short, score)
        elif score >= nudge_line:
            yield finding(self.name, Action.PUBLISH, "nudge_acknowledged",
                          f"toxicity {score:.2f}: the author was nudged and sent it anyway", score)
