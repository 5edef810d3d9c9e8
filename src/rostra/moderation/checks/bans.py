"""Bans: a banned author's comment is refused; a shadow-banned author's is kept out of
sight (the pipeline disguises it as an ordinary held comment)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action
from rostra.moderation.identity import identity_for


@dataclass(frozen=True, slots=True)
class BanHit:
    id: int
    kind: str
    shadow: bool
    reason: str | None
    expires_at: datetime | None


# (site id, identity keys) -> the most severe active ban among them, or None.
BanLookup = Callable[[str, list[str]], "BanHit | None"]


class BanCheck:
    name = "bans"

    def __init__(self, lookup: BanLookup, salt: str) -> None:
        self.lookup = lookup
        self.salt = salt

    def run(self, item: Inspection) -> Iterable[Finding]:
        identity = identity_for(item, self.salt)
        # Kept for a later range ban ("ban the network this comment came from").
        if identity.ranges:
            item.facts["ip_ranges"] = list(identity.ranges)
        hit = self.lookup(item.draft.site_id, identity.all())
        if hit is None:
            return
        if hit.shadow:
            item.facts["shadow"] = {"ban": hit.id, "kind": hit.kind}
            return
        until = f" until {hit.expires_at:%Y-%m-%d %H:%M} UTC" if hit.expires_at else ""
        yield finding(
            self.name, Action.REFUSE, "banned",
            f"ban {hit.id} by {hit.kind}{until}: {hit.reason or 'no reason given'}",
            author_message=f"You cannot comment on this site{until}."
            + (f" Reason: {hit.reason}" if hit.reason else ""),
        )
