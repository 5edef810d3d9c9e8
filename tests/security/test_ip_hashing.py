"""The keyed, rotating IP hasher (rostra.moderation.ip_hashing), on a real database."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from rostra.moderation.ip_hashing import LEGACY, IpHasher, window_of
from rostra.services.moderation import ModerationService
from rostra.store import migrate
from rostra.store.db import Database
from rostra.store.moderation_tables import bans
from rostra.store.tables import comments, meta, sites
from tests.conftest import (
    ORIGIN,
    POSTGRES_URL,
    Reader,
    create_postgres_database,
    require,
    running_server,
    side_by_side,
)

TOKEN = "ip-weeks-token"

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
    # ... the HMAC-SHA256 of the address under the old salt alone, cut to 32 hex digits.
    assert legacy == hmac.new(b"old-salt", b"203.0.113.7", hashlib.sha256).hexdigest()[:32]
    db.dispose()


def test_it_deletes_old_salts_but_those_bans_still_need(tmp_path: Path) -> None:
    db = _db(tmp_path)
    hasher = IpHasher(db, "settings-secret", clock=lambda: MONDAY)
    weeks = [MONDAY - timedelta(days=7 * n) for n in range(4)]  # this week and 3 before
    made = {}
    assert hasher.hash("192.0.2.1")  # this week's salt is made (nothing older yet to prune)
    with db.write() as conn:  # the salts the three weeks before made when they were current
        conn.execute(insert(meta), [{"key": f"ip_salt:{hasher.window(w)}", "value": f"s{n}"}
                                    for n, w in enumerate(weeks[1:])])
    for when in weeks:
        name = hasher.window(when)
        made[name] = hasher.hash("198.51.100.1", window=name)
        assert made[name] is not None
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


def test_bans_by_address_and_network_outlive_the_weekly_salt() -> None:
    """On a live server whose weeks pass: addresses hash differently each week, yet a ban
    keeps refusing its address and network, the admin still finds it by address, and the
    salt of a week no ban needs is deleted when a new week begins."""
    with running_server("sqlite", rate_limits=True, admin_token=TOKEN) as live:
        ips = live.services.comments.hashing.ips
        now = [MONDAY]
        ips.clock = lambda: now[0]
        week = ips.window()
        site = "ipweeks"
        live.add_site(site, [ORIGIN])
        staff = {"Authorization": f"Bearer {TOKEN}"}
        with live.client() as http:
            troll = Reader("Troll", http, site, ip="198.51.100.7")
            loud = Reader("Loud", http, site, ip="203.0.113.10")
            first = troll.post("/story", "The first comment from a troll's address.")
            noisy = loud.post("/story", "A comment whose network will be banned.")
            assert first.status_code == noisy.status_code == 201
            with live.services.db.read() as conn:
                stored = conn.scalar(select(comments.c.ip_hash).where(
                    comments.c.id == first.json()["comment"]["id"]))
            assert stored.startswith(f"{week}.") and "198.51" not in stored
            made = {}
            for kind, comment in (("ip", first), ("range", noisy)):
                response = http.post("/api/moderation/bans", headers=staff, json={
                    "site": site, "kind": kind, "comment_id": comment.json()["comment"]["id"],
                    "reason": f"{kind} ban"})
                assert response.status_code == 201, response.text
                made[kind] = int(response.json()["ban"]["id"])
            ip_ban = made["ip"]

            # The next week someone else comments: that week gets a salt of its own...
            now[0] = MONDAY + timedelta(days=7)
            passer = Reader("Passer", http, site, ip="192.0.2.50")
            assert passer.post("/story", "A remark in the second week.").status_code == 201
            # ...which is deleted two weeks later, while the banned week's salt stays.
            now[0] = MONDAY + timedelta(days=21)
            assert ips.window() != week
            neighbour = Reader("Neighbour", http, site, ip="203.0.113.99")
            stranger = Reader("Stranger", http, site, ip="192.0.2.77")
            assert stranger.post("/story", "A remark from elsewhere.").status_code == 201
            with live.services.db.read() as conn:
                salts = set(conn.scalars(select(meta.c.key).where(
                    meta.c.key.startswith("ip_salt:"))))
            assert salts == {f"ip_salt:{week}", f"ip_salt:{ips.window()}"}

            refused = troll.post("/story", "Back three weeks later from the same address.")
            assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]
            refused = neighbour.post("/story", "Another address in the banned network.")
            assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]
            # The bans page finds the ban by the address a moderator types, in any week.
            found = ModerationService(live.services.comments).search_bans(site, "198.51.100.7")
            assert [b["id"] for b in found] == [ip_ban]

            lifted = http.delete(f"/api/moderation/bans/{ip_ban}", headers=staff)
            assert lifted.status_code == 200
            assert troll.post("/story", "Allowed back after the ban was lifted.").status_code == 201



def test_a_ban_on_an_address_of_a_forgotten_week_is_refused() -> None:
    """Banning the address or network of a comment whose week's salt was deleted would
    place a ban that can never match: the moderator is told to ban otherwise."""
    with running_server("sqlite", admin_token=TOKEN) as live:
        ips = live.services.comments.hashing.ips
        now = [MONDAY]
        ips.clock = lambda: now[0]
        site = "ipforgot"
        live.add_site(site, [ORIGIN])
        staff = {"Authorization": f"Bearer {TOKEN}"}
        with live.client() as http:
            old = Reader("Old", http, site, ip="198.51.100.7").post(
                "/story", "A comment from three weeks ago.")
            assert old.status_code == 201
            now[0] = MONDAY + timedelta(days=21)  # its week's salt goes with the next post
            fresh = Reader("New", http, site, ip="192.0.2.77").post(
                "/story", "A comment of this week.")
            assert fresh.status_code == 201
            for kind in ("ip", "range"):
                refused = http.post("/api/moderation/bans", headers=staff, json={
                    "site": site, "kind": kind, "comment_id": old.json()["comment"]["id"]})
                assert refused.status_code == 422, refused.text
                assert "no longer known" in refused.json()["detail"]
            assert ModerationService(live.services.comments).search_bans(site) == []
            # This week's address is known: its ban is placed.
            placed = http.post("/api/moderation/bans", headers=staff, json={
                "site": site, "kind": "ip", "comment_id": fresh.json()["comment"]["id"]})
            assert placed.status_code == 201, placed.text


@pytest.mark.postgres
def test_a_ban_placed_while_old_salts_are_pruned_keeps_its_salt() -> None:
    """PostgreSQL: a prune that read the bans before a ban made in an old week committed
    deleted that week's salt, and the ban never matched again."""
    require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
    url, drop = create_postgres_database(POSTGRES_URL)
    db = Database(url)
    try:
        migrate.upgrade(db)
        hasher = IpHasher(db, "settings-secret", clock=lambda: MONDAY)
        old = hasher.window(MONDAY - timedelta(days=21))
        with db.write() as conn:
            conn.execute(insert(sites).values(id="race", name="race", origins=[], settings={},
                                              created_at=MONDAY))
            conn.execute(insert(meta).values(key=f"ip_salt:{old}", value="old-salt"))
        key = f"i:{hasher.hash('198.51.100.7', window=old)}"

        def ban_in_old_week(conn: Any) -> None:
            conn.execute(insert(bans).values(
                site_id="race", kind="ip", value=key, shadow=False, created_by="t",
                created_at=MONDAY))

        # The ban's transaction holds the salt (as BanDesk.ban does) while a prune runs.
        [pruned] = side_by_side(
            db, "SELECT key FROM meta WHERE key = :key FOR SHARE", {"key": f"ip_salt:{old}"},
            [lambda: hasher.prune((), now=MONDAY)], meanwhile=ban_in_old_week)
        assert pruned == []
        assert IpHasher(db, "settings-secret", clock=lambda: MONDAY).hash(
            "198.51.100.7", window=old) == key[2:]
    finally:
        db.dispose()
        drop()


def test_a_running_server_forgets_the_keys_of_pruned_weeks(tmp_path: Path) -> None:
    """Another process deleted an old week's salt: this one stops hashing with it once a
    new week begins, instead of keeping the key in memory for as long as it runs."""
    db = _db(tmp_path)
    now = [MONDAY]
    here = IpHasher(db, "settings-secret", clock=lambda: now[0])
    week = here.window()
    assert here.hash("203.0.113.7")
    now[0] = MONDAY + timedelta(days=21)
    there = IpHasher(db, "settings-secret", clock=lambda: now[0])
    assert there.hash("203.0.113.7")  # a new week: the other process prunes `week`
    assert there.hash("203.0.113.7", window=week) is None
    assert here.hash("203.0.113.7", window=week) is None
    db.dispose()


def test_its_kept_windows_and_parsed_addresses_hash_as_computed_afresh(tmp_path: Path) -> None:
    # Window names and parsed addresses are kept between posts; every hash must still be
    # the HMAC of the canonical address under its window's key, and a pruned window's
    # key must still give no hash though its addresses were hashed before.
    import ipaddress
    import random

    from rostra.moderation.identity import Hashing, range_keys

    db = _db(tmp_path)
    now = [MONDAY - timedelta(days=14)]
    hasher = IpHasher(db, "settings-secret", clock=lambda: now[0])
    for days in range(-400, 400, 3):  # a window starts every 7th day from 2024-01-01
        day = MONDAY + timedelta(days=days, hours=days % 24)
        start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(
            days=(day.date() - datetime(2024, 1, 1).date()).days // 7 * 7)
        assert hasher.window(day) == start.strftime("%Y%m%d")
    old = hasher.window()
    rng = random.Random(7)
    addresses = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(200)]
    addresses += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(200)]
    addresses += ["::ffff:198.51.100.7", " 198.51.100.7 ", "2001:db8::", "nope", "1.2.3"]
    hashing = Hashing("email-salt", hasher)
    before = {ip: (hasher.hash(ip), range_keys(ip, hashing)) for ip in addresses * 2}
    key = hasher._key(old, create=False)
    assert key is not None
    for ip in addresses:
        try:
            addr = ipaddress.ip_address(ip.strip())
        except ValueError:
            assert before[ip] == (None, [])
            continue
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        nets = [(24, "r24"), (16, "r16")] if addr.version == 4 else [(48, "r48"), (32, "r32")]
        text = str(addr) if addr.version == 4 else str(
            ipaddress.ip_network(f"{addr}/64", strict=False).network_address)

        def mac(text: str) -> str:
            return f"{old}.{hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]}"

        assert before[ip][0] == mac(text)
        assert before[ip][1] == [
            f"{name}:{mac(str(ipaddress.ip_network(f'{addr}/{p}', strict=False).network_address))}"
            for p, name in nets]
    # Two weeks on, that window's salt is pruned: its addresses hash to nothing in it.
    now[0] = MONDAY
    assert hasher.hash(addresses[0])  # this week's salt is made, the old one pruned
    assert hasher.hash(addresses[0], window=old) is None
    assert range_keys(addresses[0], hashing, window=old) == []
    db.dispose()
