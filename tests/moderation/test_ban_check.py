"""The ban check on its own: which keys it looks up, what it tells the author and the
moderator, how a shadow ban and a ban from an earlier hashing window are handled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rostra.moderation.checks import Inspection
from rostra.moderation.checks.bans import BanCheck, BanHit
from rostra.moderation.decision import Action, Decision, Draft, PublishEverything, Reason
from rostra.moderation.identity import Hashing, email_key, range_keys
from rostra.moderation.ip_hashing import IpHasher
from rostra.moderation.policy import Policy
from rostra.store import migrate
from rostra.store.db import Database

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


@pytest.fixture
def hashers(tmp_path: Path) -> Iterator[tuple[Hashing, Hashing]]:
    """(last week's, this week's) hashing, on one database, as a server sees them."""
    db = Database(f"sqlite:///{tmp_path / 'bans.sqlite3'}")
    migrate.upgrade(db)
    earlier = Hashing("email-salt", IpHasher(db, "secret", clock=lambda: NOW - timedelta(7)))
    yield earlier, Hashing("email-salt", IpHasher(db, "secret", clock=lambda: NOW))
    db.dispose()


def inspection(ip: str | None = "203.0.113.9", email: str | None = "ana@example.org",
               site: str = "news") -> Inspection:
    draft = Draft(site_id=site, thread_id=1, thread_key="/t", parent_id=None, text="hi",
                  author_name="Ana", author_email=email, author_website=None, ip_hash=None,
                  voter_id="v1", account_id=None, created_at=NOW, ip=ip)
    return Inspection(draft, Policy())


class Lookup:
    """A ban table of one ban under ``key``; records what it was asked."""

    def __init__(self, key: str | None, hit: BanHit) -> None:
        self.key, self.hit, self.asked = key, hit, []  # type: list[tuple[str, list[str]]]

    def __call__(self, site_id: str, keys: list[str]) -> BanHit | None:
        self.asked.append((site_id, list(keys)))
        return self.hit if self.key in keys else None


def test_it_refuses_a_banned_author_with_the_ban_and_its_reason(
    hashers: tuple[Hashing, Hashing]
) -> None:
    _, now = hashers
    until = datetime(2026, 12, 9, 8, 30, tzinfo=UTC)
    lookup = Lookup(email_key("ana@example.org", "email-salt"),
                    BanHit(7, "email", False, "threats", until))
    item = inspection()
    [found] = BanCheck(lookup, now).run(item)
    assert found.action is Action.REFUSE
    assert found.reason == Reason("bans", "banned",
                                  "ban 7 by email until 2026-12-09 08:30 UTC: threats")
    assert found.message == ("You cannot comment on this site until 2026-12-09 08:30 UTC. "
                             "Reason: threats")
    assert item.facts["ip_ranges"] == range_keys("203.0.113.9", now)
    [(site, keys)] = lookup.asked
    assert site == "news"
    assert keys == [email_key("ana@example.org", "email-salt"), "v:v1",
                    *range_keys("203.0.113.9", now)]

    forever = Lookup("v:v1", BanHit(8, "voter", False, None, None))
    [found] = BanCheck(forever, now).run(inspection())
    assert found.reason.message == "ban 8 by voter: no reason given"
    assert found.message == "You cannot comment on this site."


def test_it_marks_a_shadow_banned_author_without_refusing(
    hashers: tuple[Hashing, Hashing]
) -> None:
    _, now = hashers
    item = inspection()
    found = list(BanCheck(Lookup("v:v1", BanHit(9, "voter", True, "troll", None)), now).run(item))
    assert found == [] and item.facts["shadow"] == {"ban": 9, "kind": "voter"}
    clean = inspection(ip=None)
    assert list(BanCheck(Lookup("nothing", BanHit(1, "ip", False, None, None)), now).run(
        clean)) == []
    assert "ip_ranges" not in clean.facts and "shadow" not in clean.facts


def test_it_matches_an_address_banned_in_an_earlier_window(
    hashers: tuple[Hashing, Hashing]
) -> None:
    earlier, now = hashers
    old_key = f"i:{earlier.ip('203.0.113.9')}"
    assert old_key != f"i:{now.ip('203.0.113.9')}"
    windows_asked = []

    def windows(site_id: str) -> frozenset[str]:
        windows_asked.append(site_id)
        return frozenset({earlier.ips.window(), now.ips.window()})

    lookup = Lookup(old_key, BanHit(3, "ip", False, "spam", None))
    [found] = BanCheck(lookup, now, windows).run(inspection(site="other"))
    assert found.reason.code == "banned" and windows_asked == ["other"]
    [(_, keys)] = lookup.asked
    assert keys.count(old_key) == 1
    # ...looked up together with every key of this window, not instead of them.
    assert keys[:2] == [email_key("ana@example.org", "email-salt"), "v:v1"]
    assert set(range_keys("203.0.113.9", now)) <= set(keys)
    # Without the earlier window, the old ban does not match; without an address, no
    # earlier keys are made at all.
    assert list(BanCheck(Lookup(old_key, lookup.hit), now).run(inspection())) == []
    quiet = Lookup(old_key, lookup.hit)
    assert list(BanCheck(quiet, now, windows).run(inspection(ip=None))) == []
    assert old_key not in quiet.asked[0][1]


def test_it_serialises_decisions_for_the_comment_record() -> None:
    reason = Reason("words", "blocklist", "blocked word(s): x", 1.0)
    assert reason.to_json() == {"check": "words", "code": "blocklist",
                                "message": "blocked word(s): x", "score": 1.0}
    decision = Decision(Action.HOLD, (reason,), "held", {"language": "en"})
    assert decision.to_json() == {"action": "hold", "reasons": [reason.to_json()],
                                  "message": "held", "facts": {"language": "en"}}
    assert Decision(Action.PUBLISH).to_json() == {"action": "publish", "reasons": [],
                                                  "message": None}
    assert PublishEverything().decide(inspection().draft) == Decision(Action.PUBLISH)
