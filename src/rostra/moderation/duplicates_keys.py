"""The per-request author keys that rate limits and duplicate detection count by."""

from __future__ import annotations

from rostra.moderation.decision import Draft


def author_keys(draft: Draft) -> frozenset[str]:
    """Account, voter id and IP hash of the draft's author, whichever are known."""
    keys = set()
    if draft.account_id is not None:
        keys.add(f"a:{draft.account_id}")
    if draft.voter_id:
        keys.add(f"v:{draft.voter_id}")
    if draft.ip_hash:
        keys.add(f"i:{draft.ip_hash}")
    return frozenset(keys)
