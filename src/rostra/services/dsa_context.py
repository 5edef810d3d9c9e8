"""What a state change's caller knows about it, for the statement of reasons the DSA
asks for (see rostra.services.dsa): a context variable set around the change."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rostra.core.models import CommentState


class Source(StrEnum):
    """Who or what led to a decision."""

    NOTICE = "notice"  # a DSA notice, decided by a moderator
    FLAGS = "flags"  # readers' flags held it (automatically, at the site's line)
    AUTOMATED = "automated"  # the moderation checks, at posting or editing
    MODERATOR = "moderator"  # a moderator, on their own or from the queue


# The states that remove a comment or restrict who sees it, and which of the two.
RESTRICTIONS = {
    CommentState.PENDING: "visibility",
    CommentState.SPAM: "removal",
    CommentState.REJECTED: "removal",
    CommentState.DELETED: "removal",
}


@dataclass
class Deciding:
    """What a caller knows about the state change it is about to make."""

    source: Source
    actor: str | None = None
    reason: str | None = None
    ground_kind: str = "terms"
    ground: str | None = None
    notice_id: int | None = None
    quiet: bool = False  # no statement (an appeal's reversal, an undo)
    written: list[int] = field(default_factory=list)  # ids of the statements written


_DECIDING: ContextVar[Deciding | None] = ContextVar("rostra_dsa_deciding", default=None)


def current() -> Deciding | None:
    """The description the current state change runs under, if any."""
    return _DECIDING.get()


@contextlib.contextmanager
def deciding(source: Source, **details: Any) -> Iterator[Deciding]:
    """Describe the state changes made inside the block; an outer description wins
    (a notice's decision goes through the moderators' ``decide``)."""
    outer = _DECIDING.get()
    if outer is not None:
        yield outer
        return
    current = Deciding(source, **details)
    token = _DECIDING.set(current)
    try:
        yield current
    finally:
        _DECIDING.reset(token)
