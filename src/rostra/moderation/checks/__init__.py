"""The checks of the moderation pipeline: each module holds one check with one job.

A check looks at a draft comment (with the site's policy and what earlier checks found)
and returns findings. It never decides alone: the pipeline (``rostra.moderation.pipeline``)
runs the checks in a fixed order and combines their findings into one Decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from rostra.moderation.decision import Action, Draft, Reason
from rostra.moderation.policy import Policy

# How strongly each action overrides the others when findings are combined.
SEVERITY = {Action.PUBLISH: 0, Action.HOLD: 1, Action.SPAM: 2, Action.REFUSE: 3}


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check concluded: the action it asks for and why.

    ``message`` is for the author (a refusal or a hold); ``retry_after`` is set by the
    rate limit check (seconds until the author may post again).
    """

    action: Action
    reason: Reason
    message: str | None = None
    retry_after: int | None = None


@dataclass(slots=True)
class Inspection:
    """One draft on its way through the pipeline."""

    draft: Draft
    policy: Policy
    # Facts learned so far (language, toxicity, reputation...); stored with the decision.
    facts: dict[str, Any] = field(default_factory=dict)
    # Values for later steps that are not stored on the comment (an embedding).
    scratch: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # Run by the pipeline once the draft is accepted (not refused): a check remembers
    # what it saw only for comments that are stored (a nudged draft sent again is not a
    # duplicate of itself).
    on_accept: list[Callable[[], None]] = field(default_factory=list)

    @property
    def is_edit(self) -> bool:
        return bool(self.draft.extras.get("edit"))

    @property
    def action(self) -> Action:
        """The most severe action asked for so far."""
        return max((f.action for f in self.findings), key=SEVERITY.__getitem__,
                   default=Action.PUBLISH)


class Check(Protocol):
    """One step of the pipeline. ``name`` is the ``check`` of the reasons it gives."""

    name: str

    def run(self, item: Inspection) -> Iterable[Finding]: ...


def finding(check: str, action: Action, code: str, message: str, score: float | None = None,
            *, author_message: str | None = None, retry_after: int | None = None) -> Finding:
    """Shorthand for a Finding with its Reason."""
    return Finding(action, Reason(check, code, message, score), author_message, retry_after)
