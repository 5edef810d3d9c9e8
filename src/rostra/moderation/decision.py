"""What moderation decides about a comment, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class Action(StrEnum):
    PUBLISH = "publish"
    HOLD = "hold"  # pending until a moderator approves
    SPAM = "spam"  # stored as spam, shown to nobody but moderators
    REFUSE = "refuse"  # not stored; the author is told why


@dataclass(frozen=True, slots=True)
class Reason:
    """One check's finding: a stable code, a sentence for moderators, and a score."""

    check: str
    code: str
    message: str
    score: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "code": self.code, "message": self.message, "score": self.score}


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reasons: tuple[Reason, ...] = ()
    # Shown to the author when a comment is refused or held.
    message: str | None = None
    # Facts learned while deciding that the comment keeps (language, toxicity score...).
    facts: dict[str, Any] = field(default_factory=dict)
    # The reason codes its author is told, where they are not ``reasons``' (a comment
    # filed as spam, or held for a shadow ban): what an ordinary hold would say.
    told: tuple[str, ...] | None = None

    def codes_for_author(self) -> list[str]:
        """The reason codes the comment's author is told."""
        return list(self.told) if self.told is not None else [r.code for r in self.reasons]

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "reasons": [r.to_json() for r in self.reasons],
            "message": self.message,
            **({"facts": self.facts} if self.facts else {}),
        }


@dataclass(frozen=True, slots=True)
class Draft:
    """A comment about to be stored, with what the checks may look at."""

    site_id: str
    thread_id: int | None
    thread_key: str
    parent_id: int | None
    text: str
    author_name: str | None
    author_email: str | None
    author_website: str | None
    ip_hash: str | None
    voter_id: str | None
    account_id: int | None
    created_at: datetime
    # Per-request extras a check may need (proof-of-work solution, nudge acknowledged...).
    extras: dict[str, Any] = field(default_factory=dict)
    # The raw client address, for deriving hashed network keys (range bans); never stored.
    ip: str | None = None


class Moderator(Protocol):
    def decide(self, draft: Draft) -> Decision: ...


class PublishEverything:
    """The moderator used when no policy is configured: every comment goes live."""

    def decide(self, draft: Draft) -> Decision:
        return Decision(Action.PUBLISH)
