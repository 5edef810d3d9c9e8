"""Earned trust: how much a site trusts a commenter, from what its moderators decided.

Trust is earned by approved comments and lost by rejections (and spam) and by upheld
DSA notices: the score is ``approved - 3 x (rejected + spam) - 10 x notices``. Levels:

- ``new``: nothing decided yet;
- ``watched``: the score is below zero;
- ``trusted``: the score reached the site's ``trust.trusted_after`` line;
- ``known``: anyone else.
"""

from __future__ import annotations

from enum import StrEnum

from rostra.moderation.checks.reputation import History

REJECTION_COST = 3
NOTICE_COST = 10


class TrustLevel(StrEnum):
    NEW = "new"
    KNOWN = "known"
    TRUSTED = "trusted"
    WATCHED = "watched"


def trust_score(history: History) -> int:
    return (history.approved - REJECTION_COST * (history.rejected + history.spam)
            - NOTICE_COST * history.notices)


def trust_level(history: History, trusted_after: int) -> TrustLevel:
    if not (history.approved or history.rejected or history.spam or history.notices):
        return TrustLevel.NEW
    score = trust_score(history)
    if score < 0:
        return TrustLevel.WATCHED
    if score >= trusted_after:
        return TrustLevel.TRUSTED
    return TrustLevel.KNOWN
