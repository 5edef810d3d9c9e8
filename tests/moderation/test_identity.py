"""Hashed identity keys: range bans work without keeping addresses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rostra.moderation.identity import Hashing, email_key, network_key, range_keys
from rostra.moderation.ip_hashing import IpHasher
from rostra.store import migrate
from rostra.store.db import Database

WEEK = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def salt(tmp_path: Path) -> Iterator[Hashing]:
    """Keys as the server makes them: addresses under this week's keyed salt."""
    db = Database(f"sqlite:///{tmp_path / 'keys.sqlite3'}")
    migrate.upgrade(db)
    yield Hashing("email-salt", IpHasher(db, "settings-secret", clock=lambda: WEEK))
    db.dispose()


def test_it_gives_addresses_in_one_network_the_same_range_keys(salt: Hashing) -> None:
    a, b = range_keys("203.0.113.7", salt), range_keys("203.0.113.200", salt)
    c = range_keys("203.0.99.1", salt)
    assert a == b
    assert a[0] != c[0] and a[1] == c[1]  # another /24 in the same /16
    assert all(k.startswith(("r24:", "r16:")) for k in a)
    assert "203" not in "".join(a)


def test_it_matches_a_typed_network_to_the_keys_of_a_post(salt: Hashing) -> None:
    assert network_key("203.0.113.0/24", salt) == range_keys("203.0.113.9", salt)[0]
    assert network_key("203.0.0.0/16", salt) == range_keys("203.0.113.9", salt)[1]
    assert network_key("2001:db8:1::/48", salt) == range_keys("2001:db8:1:2::5", salt)[0]
    assert network_key("203.0.113.9", salt).startswith("i:")


def test_it_refuses_other_prefix_lengths(salt: Hashing) -> None:
    with pytest.raises(ValueError):
        network_key("203.0.113.0/20", salt)


def test_it_hashes_emails_case_insensitively() -> None:
    assert email_key("Ana@Example.com ", "s") == email_key("ana@example.com", "s")
    assert email_key("ana@example.com", "s") != email_key("ana@example.com", "t")


def test_it_keys_ipv4_mapped_and_ipv6_networks_like_typed_ones(salt: Hashing) -> None:
    assert range_keys("::ffff:203.0.113.9", salt) == range_keys("203.0.113.9", salt)
    assert network_key("2001:db8::/32", salt) == range_keys("2001:db8:1:2::5", salt)[1]
    assert all(k.startswith(("r48:", "r32:")) for k in range_keys("2001:db8::1", salt))
    assert range_keys("not an address", salt) == [] == range_keys(None, salt)


def test_it_makes_range_keys_of_a_past_window_only_while_its_salt_is_kept(
        salt: Hashing) -> None:
    week = salt.ips.window()
    now = range_keys("203.0.113.9", salt)
    assert now == range_keys("203.0.113.9", salt, window=week)
    assert all(k.split(":", 1)[1].startswith(f"{week}.") for k in now)
    # A window whose salt was never made (or was deleted) gives no keys, not wrong ones.
    assert range_keys("203.0.113.9", salt, window="20250106") == []
    assert network_key("203.0.113.0/24", salt, window="20250106") is None
