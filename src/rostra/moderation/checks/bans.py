"""Bans: a banned author's comment is refused; a shadow-banned author's is kept out of
sight (the pipeline disguises it as an ordinary held comment)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action
from rostra.moderation.identity import Hashing, address_keys_in, identity_for


@dataclass(frozen=True, slots=True)
class BanHit:
    id: int
    kind: str
    shadow: bool
    reason: str | None
    expires_at: datetime | None


# (site id, identity keys) -> the most severe active ban among them, or None.
BanLookup = Callable[[str, list[str]], "BanHit | None"]
# site id -> the windows (see rostra.moderation.ip_hashing) its active address bans were made in.
BanWindows = Callable[[str], "frozenset[str]"]


class BanCheck:
    name = "bans"

    def __init__(self, lookup: BanLookup, hashing: Hashing,
                 windows: BanWindows = lambda site_id: frozenset()) -> None:
        self.lookup = lookup
        self.hashing = hashing
        self.windows = windows

    def run(self, item: Inspection) -> Iterable[Finding]:
        identity = identity_for(item, self.hashing)
        # Kept for a later range ban ("ban the network this comment came from").
        if identity.ranges:
            item.facts["ip_ranges"] = list(identity.ranges)
        keys = identity.all()
        # Address hashes change with each window; a ban made in an earlier one is matched
        # by hashing this address the way it was hashed then.
        earlier = self.windows(item.draft.site_id) - {self.hashing.ips.window()}
        if earlier and item.draft.ip:
            keys += address_keys_in(sorted(earlier), item.draft.ip, self.hashing)
        hit = self.lookup(item.draft.site_id, keys)
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
