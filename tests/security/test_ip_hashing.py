"""The keyed, rotating IP hasher (rostra.services.ip_hashing), on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from rostra.services.ip_hashing import LEGACY, IpHasher, window_of
from rostra.services.privacy import hash_ip
from rostra.store import migrate
from rostra.store.db import Database
from rostra.store.tables import meta

MONDAY = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'ip.sqlite3'}")
    migrate.upgrade(db)
    return db


def test_it_hashes_equal_addresses_equally_within_a_window_only(tmp_path: Path) -> None:
    db = _db(tmp_path)
    hasher = IpHasher(db, "settings-secret", clock=lambda: MONDAY)
    week = hasher.window(MONDAY)
    assert week == hasher.window(MONDAY + timedelta(days=6)) == "20261130"
    next_week = hasher.window(MONDAY + timedelta(days=7))
    a = hasher.hash("203.0.113.7", window=week)
    assert a is not None and a.startswith(f"{week}.") and len(a) <= 64
    assert hasher.hash("203.0.113.7", window=week) == a
    assert hasher.hash("203.0.113.8", window=week) != a
    assert hasher.hash("::ffff:203.0.113.7", window=week) == a
    assert hasher.hash("2001:db8:1:2::1", window=week) == hasher.hash("2001:db8:1:2::9",
                                                                      window=week)
    # Another window has a salt of its own, made when it is current.
    assert hasher.hash("203.0.113.7", window=next_week) is None  # never made: no hash
    assert hasher.hash("not an address") is None
    assert window_of(f"i:{a}") == week and window_of("r24:" + "f" * 32) == LEGACY
    db.dispose()


def test_it_needs_the_settings_secret_as_well_as_the_database(tmp_path: Path) -> None:
    db = _db(tmp_path)
    ours = IpHasher(db, "settings-secret").hash("203.0.113.7")
    # Someone with the database (and so every salt in it) but another secret.
    theirs = IpHasher(db, "guessed-secret").hash("203.0.113.7")
    assert ours and theirs and ours != theirs
    # The legacy hash (salt from the database only) stays what it was.
    legacy = IpHasher(db, "x", legacy_salt="old-salt").hash("203.0.113.7", window=LEGACY)
    assert legacy == hash_ip("203.0.113.7", "old-salt")
    db.dispose()


def test_it_deletes_old_salts_but_those_bans_still_need(tmp_path: Path) -> None:
    db = _db(tmp_path)
    hasher = IpHasher(db, "settings-secret", clock=lambda: MONDAY)
    weeks = [MONDAY - timedelta(days=7 * n) for n in range(4)]  # this week and 3 before
    made = {}
    for when in weeks:
        name = hasher.window(when)
        hasher._key(name, create=True)  # the salt each week had when it was current
        made[name] = hasher.hash("198.51.100.1", window=name)
    banned = hasher.window(weeks[3])
    gone = hasher.prune(keep=[banned], now=MONDAY)
    assert gone == [hasher.window(weeks[2])]
    with db.read() as conn:
        left = set(conn.scalars(select(meta.c.key).where(meta.c.key.startswith("ip_salt:"))))
    assert left == {f"ip_salt:{hasher.window(w)}" for w in (weeks[0], weeks[1], weeks[3])}
    # The ban's window still hashes; the pruned one can no longer.
    assert hasher.hash("198.51.100.1", window=banned) == made[banned]
    assert IpHasher(db, "settings-secret", clock=lambda: MONDAY).hash("198.51.100.1",
                                                window=hasher.window(weeks[2])) is None
    db.dispose()
