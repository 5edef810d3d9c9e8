"""Hashed identity keys: range bans work without keeping addresses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rostra.moderation.decision import Draft
from rostra.moderation.identity import (
    Hashing,
    author_key_of_row,
    email_key,
    identity_of,
    network_key,
    range_keys,
)
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
    assert "203.0" not in "".join(a)  # hashed: no address in them (hex has no dots)


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


def _draft(**author: object) -> Draft:
    values: dict[str, object] = {
        "site_id": "s", "thread_id": 1, "thread_key": "/t", "parent_id": None, "text": "x",
        "author_name": "Ana", "author_email": None, "author_website": None, "ip_hash": None,
        "voter_id": None, "account_id": None, "created_at": WEEK, **author}
    return Draft(**values)  # type: ignore[arg-type]


def test_it_keys_every_identity_of_an_author_strongest_first(salt: Hashing) -> None:
    full = identity_of(_draft(account_id=7, author_email="Ana@Example.com", voter_id="vv",
                              ip_hash="hh", ip="203.0.113.9"), salt)
    assert full.all() == ["a:7", email_key("ana@example.com", "email-salt"), "v:vv", "i:hh",
                          *range_keys("203.0.113.9", salt)]
    assert full.author == "a:7"
    # Account 0 is an account; without one, the email, then the voter id, is the author.
    assert identity_of(_draft(account_id=0), salt).author == "a:0"
    by_email = identity_of(_draft(author_email="b@example.org", voter_id="vv"), salt)
    assert by_email.author == email_key("b@example.org", "email-salt")
    assert identity_of(_draft(voter_id="vv"), salt).author == "v:vv"
    nobody = identity_of(_draft(), salt)
    assert nobody.author is None and nobody.all() == []


def test_it_keys_a_stored_comment_as_it_keyed_the_draft(salt: Hashing) -> None:
    @dataclass
    class Row:
        account_id: int | None = None
        author_email: str | None = None
        voter_id: str | None = None

    for row in (Row(account_id=3, author_email="a@b.org", voter_id="v"), Row(account_id=0),
                Row(author_email="A@B.org", voter_id="v"), Row(voter_id="v"), Row()):
        draft = _draft(account_id=row.account_id, author_email=row.author_email,
                       voter_id=row.voter_id)
        assert author_key_of_row(row, "email-salt") == identity_of(draft, salt).author, row


def test_it_keeps_email_keys_stable_across_releases() -> None:
    # Bans and reputations are stored under these keys: the same email must give the same
    # key after an upgrade, or every email ban silently stops matching.
    assert email_key("ana@example.com", "s") == "e:97b46f7af005c943cd356775f8ea9f0d"


def test_it_types_single_addresses_and_ipv6_subnets_as_address_keys(salt: Hashing) -> None:
    # A typed network with host bits set still names that network.
    assert network_key("203.0.113.77/24", salt) == range_keys("203.0.113.9", salt)[0]
    # IPv6 addresses are hashed by their /64: a /64 (or narrower) is one reader's address.
    post = f"i:{salt.ip('2001:db8:1:2::5')}"
    assert network_key("2001:db8:1:2::/64", salt) == post
    assert network_key("2001:db8:1:2:aaaa::/80", salt) == post
    assert network_key("2001:db8:1:2::9", salt) == post
    with pytest.raises(ValueError, match=r"^only single addresses or /48 or /32 networks can be "
                                         r"banned$"):
        network_key("2001:db8:1::/63", salt)
    with pytest.raises(ValueError, match=r"^only single addresses or /24 or /16 networks can be "
                                         r"banned$"):
        network_key("203.0.112.0/23", salt)
    # An address typed for a window whose salt is gone has no key.
    assert network_key("203.0.113.9", salt, window="20250106") is None
    assert salt.ip(None) is None and salt.ip("") is None


def test_it_keys_rows_that_lack_some_author_columns() -> None:
    from types import SimpleNamespace

    assert author_key_of_row(SimpleNamespace(), "s") is None
    assert author_key_of_row(SimpleNamespace(voter_id="v"), "s") == "v:v"
    assert author_key_of_row(SimpleNamespace(author_email="a@b.org"), "s") == email_key(
        "a@b.org", "s")
    assert author_key_of_row(SimpleNamespace(account_id=4), "s") == "a:4"
