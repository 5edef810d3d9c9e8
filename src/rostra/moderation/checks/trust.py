"""Earned trust: the site's rules for commenters it does not know yet (first comments,
links, young accounts), each held with its own reason; trusted commenters skip them, and
the policy step and the classifier's nudge read the level this check notes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.checks.links import hosts_of
from rostra.moderation.checks.reputation import History, HistoryLookup
from rostra.moderation.decision import Action
from rostra.moderation.identity import Hashing, identity_for
from rostra.moderation.trust import TrustLevel, trust_level, trust_score

# (site id, account id) -> when the signed-in reader's account was made (None: unknown)
AccountAge = Callable[[str, int], datetime | None]


class TrustCheck:
    name = "trust"

    def __init__(self, lookup: HistoryLookup, account_created: AccountAge,
                 hashing: Hashing) -> None:
        self.lookup = lookup
        self.account_created = account_created
        self.hashing = hashing

    def run(self, item: Inspection) -> Iterable[Finding]:
        draft, rules = item.draft, item.policy.trust
        author = identity_for(item, self.hashing).author
        history = self.lookup(draft.site_id, author) if author else History()
        level = trust_level(history, rules.trusted_after)
        item.facts["trust"] = {"level": level.value, "score": trust_score(history)}
        if level is TrustLevel.TRUSTED:
            return
        approved = history.approved
        if rules.first_comments_held and approved < rules.first_comments_held and (
                not item.is_edit):
            yield finding(
                self.name, Action.HOLD, "trust_first_comments",
                f"the site holds a commenter's first {rules.first_comments_held} comments: "
                f"{approved} approved so far", float(approved))
        if rules.links_need_approved and approved < rules.links_need_approved and hosts_of(
                draft.text):
            yield finding(
                self.name, Action.HOLD, "trust_links",
                f"links from commenters with fewer than {rules.links_need_approved} approved "
                f"comments wait for a moderator: {approved} approved", float(approved))
        if rules.account_min_days and draft.account_id is not None and not item.is_edit:
            created = self.account_created(draft.site_id, draft.account_id)
            if created is not None and draft.created_at - created < timedelta(
                    days=rules.account_min_days):
                days = (draft.created_at - created).total_seconds() / 86400
                yield finding(
                    self.name, Action.HOLD, "trust_new_account",
                    f"the account is {days:.1f} days old, younger than the "
                    f"{rules.account_min_days} days the site asks for", round(days, 2))
