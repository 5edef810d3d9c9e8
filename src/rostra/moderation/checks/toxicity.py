"""Toxicity: the classifier's scores (the shipped model, `abusive` corrected by the site's
learned head) against the site's lines, class by class.

The default policy holds threats and attacks on groups, nudges then holds insults, at
most nudges swearing at no one, publishes heated or blunt civil comments, and files
adverts as spam. Whatever it does, the decision keeps every class's score and, for a
comment it does not simply publish, the words and sentence that drove the score.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action

NUDGE_MESSAGE = (
    "Your comment may come across as hurtful to others. Would you like to rephrase it? "
    "You can also send it as it is."
)
LANGUAGE_MESSAGE = (
    "Your comment uses strong language. Would you like to rephrase it? "
    "You can also send it as it is."
)
REFUSE_MESSAGE = "This comment cannot be published: it reads as abusive."
# The kinds of abuse, by how a moderator acts on them: threats and attacks on a group are
# held without a nudge (asking to rephrase a threat makes no sense); insults are nudged.
SEVERE = ("threat", "identity_hate")
TARGETED = ("threat", "identity_hate", "insult")
LABELS = {"threat": "threat", "identity_hate": "attack on a group", "insult": "insult",
          "profanity": "strong language", "spam": "spam"}


class Classifier(Protocol):
    """What this check needs from the classifier (see rostra.moderation.model)."""

    encoder: str

    def assess(self, site_id: str, text: str) -> Any: ...

    def explain(self, text: str, head: str) -> dict[str, Any]: ...


class ToxicityCheck:
    name = "toxicity"

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    def run(self, item: Inspection) -> Iterable[Finding]:
        if not item.policy.toxicity:
            return
        draft = item.draft
        # Called on a worker thread (the post handler hands the post to its posting
        # thread; edits run as sync routes in the pool), so scoring never blocks the loop.
        scores = self.classifier.assess(draft.site_id, draft.text)
        classes = {k: round(float(v), 4) for k, v in scores.classes.items()}
        score = classes["abusive"]
        item.scratch["embedding"] = scores.embedding
        item.facts["toxicity"] = score
        item.facts["toxicity_classes"] = classes
        kind = max(TARGETED, key=lambda k: classes.get(k, 0.0))
        found = list(self._findings(item, classes, score, kind))
        if found:
            last = found[-1].reason
            head = ("spam" if last.code == "spam_score"
                    else "profanity" if last.message.startswith(LABELS["profanity"]) else kind)
            # Only for comments that are not simply published: it costs a little per word.
            item.facts["toxicity_evidence"] = self.classifier.explain(draft.text, head)
        yield from found

    def _findings(self, item: Inspection, classes: dict[str, float], score: float,
                  kind: str) -> Iterable[Finding]:
        t = item.policy.thresholds
        what = f"{LABELS[kind]} {classes.get(kind, 0.0):.2f}"
        if classes.get("spam", 0.0) >= t.spam_line:
            yield finding(self.name, Action.SPAM, "spam_score",
                          f"spam {classes['spam']:.2f} at or over the spam line {t.spam_line:.2f}",
                          classes["spam"])
        if score >= t.toxicity_refuse:
            yield finding(self.name, Action.REFUSE, "toxic",
                          f"toxicity {score:.2f} ({what}) at or over the refusal line "
                          f"{t.toxicity_refuse:.2f}", score, author_message=REFUSE_MESSAGE)
            return
        acknowledged = bool(item.draft.extras.get("nudge_acknowledged"))
        # A trusted author gets a lighter nudge: none below the hold line, and none for
        # strong language at no one.
        trusted = (item.facts.get("trust") or {}).get("level") == "trusted"
        may_nudge = not acknowledged and not item.is_edit and not trusted
        class_lines = {"threat": t.threat_hold, "identity_hate": t.identity_hate_hold}
        for severe in SEVERE:
            # A class line holds on its own: a threat phrased without insults scores
            # lower as abuse than as a threat.
            if classes.get(severe, 0.0) >= class_lines[severe]:
                yield finding(self.name, Action.HOLD, severe,
                              f"{LABELS[severe]} {classes[severe]:.2f} at or over its line "
                              f"{class_lines[severe]:.2f} (toxicity {score:.2f})", score)
                return
        if score >= t.toxicity_hold and kind in SEVERE:
            yield finding(self.name, Action.HOLD, "toxic",
                          f"toxicity {score:.2f} ({what}) at or over the hold line "
                          f"{t.toxicity_hold:.2f}", score)
            return
        if score >= t.toxicity_nudge and may_nudge:
            yield finding(self.name, Action.REFUSE, "nudge",
                          f"toxicity {score:.2f} ({what}): the author is asked to reconsider",
                          score, author_message=NUDGE_MESSAGE)
            return
        if score >= t.toxicity_hold:
            yield finding(self.name, Action.HOLD, "toxic",
                          f"toxicity {score:.2f} ({what}) at or over the hold line "
                          f"{t.toxicity_hold:.2f}"
                          + (" (the author was nudged and sent it anyway)" if acknowledged else ""),
                          score)
            return
        if score >= t.toxicity_nudge and trusted and not acknowledged:
            yield finding(self.name, Action.PUBLISH, "trusted_not_nudged",
                          f"toxicity {score:.2f} ({what}): a trusted author is not nudged "
                          "below the hold line", score)
            return
        if score >= t.toxicity_nudge:
            yield finding(self.name, Action.PUBLISH, "nudge_acknowledged",
                          f"toxicity {score:.2f} ({what}): the author was nudged and sent it anyway",
                          score)
            return
        profanity = classes.get("profanity", 0.0)
        if profanity >= t.profanity_nudge:
            if may_nudge:
                yield finding(self.name, Action.REFUSE, "nudge",
                              f"strong language {profanity:.2f}: the author is asked to reconsider",
                              profanity, author_message=LANGUAGE_MESSAGE)
            elif acknowledged:
                yield finding(self.name, Action.PUBLISH, "nudge_acknowledged",
                              f"strong language {profanity:.2f}: the author was nudged and "
                              "sent it anyway", profanity)
