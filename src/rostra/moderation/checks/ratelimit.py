"""Rate limits on posting: per author key (account, voter id, IP hash) and per thread."""

from __future__ import annotations

from collections.abc import Iterable

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action
from rostra.moderation.duplicates_keys import author_keys
from rostra.moderation.ratelimit import RateLimiter

RATE_LIMITED = "rate_limited"


class RateLimitCheck:
    name = "rate_limit"

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def run(self, item: Inspection) -> Iterable[Finding]:
        if item.is_edit:
            return
        draft, limits = item.draft, item.policy.rate_limits
        wait = self.limiter.hit(limits.post_author, f"post:{draft.site_id}",
                                sorted(author_keys(draft)))
        scope = "you"
        if wait is None:
            wait = self.limiter.hit(limits.post_thread, f"thread:{draft.site_id}",
                                    [draft.thread_key])
            scope = "this discussion"
        if wait is not None:
            yield finding(
                self.name, Action.REFUSE, RATE_LIMITED,
                f"too many comments from {'this author' if scope == 'you' else 'one thread'}",
                float(wait), retry_after=wait,
                author_message=f"Too many comments from {scope} just now; please wait "
                f"{wait} seconds.",
            )
