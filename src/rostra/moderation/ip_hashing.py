"""Hashes of IP addresses that cannot be reversed by trying every address.

An address is hashed with HMAC-SHA256 under a key made of two parts: a secret from the
settings (``secret_key``), which the database does not hold, and a random salt of the
current window (a week by default), which the database holds while it is needed. Each
hash carries the window it was made in ("<window>.<hex>"), so that

- a copy of the database alone cannot test the 2^32 IPv4 addresses against a hash
  (the settings' secret is missing);
- once a window's salt is deleted, its hashes cannot be reversed by anyone;
- hashes of one window are equal exactly when their addresses are, which is all that
  spotting one author, one vote per address and flags need.

A window's salt is deleted once the window after it has ended, unless an active ban by
address or network was made under it: the ban keeps matching new comments (their
address is hashed under the ban's window too) until it ends, and then the salt goes.
Hashes made before keyed hashing (no "." in them) belong to the window "legacy", whose
salt is the one the database kept before.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Connection, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from rostra.store.db import Database, attempts
from rostra.store.moderation_tables import bans
from rostra.store.tables import meta

LEGACY = "legacy"
SALT_PREFIX = "ip_salt:"
EPOCH = date(2024, 1, 1)  # a Monday: weekly windows start on Mondays
# Prefixes of the identity keys made from addresses ("i:" one address, "r24:"... networks).
ADDRESS_KEYS = frozenset({"i", "r24", "r16", "r48", "r32"})


@lru_cache(maxsize=4096)  # parsing cost more than hashing; a poster's address recurs
def canonical_address(ip: str) -> str | None:
    """The text hashed for ``ip``: IPv4 as is (also when mapped into IPv6), IPv6 cut to
    its /64 (one household); None for anything that is not an address."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if isinstance(addr, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{addr}/64", strict=False).network_address)
    return str(addr)


def window_of(key: str) -> str:
    """The window a stored hash or ban key ("i:<hash>", "r24:<hash>") was made in."""
    value = key.split(":", 1)[-1]
    return value.split(".", 1)[0] if "." in value else LEGACY


class IpHasher:
    """Hashes addresses under the current window's keyed salt (thread-safe; every
    worker and server sharing the database agrees on each window's salt)."""

    def __init__(self, db: Database, secret: str, *, window_days: int = 7,
                 legacy_salt: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.clock = clock
        self.secret = secret.encode()
        self.window_days = window_days
        self.legacy_salt = legacy_salt
        self._keys: dict[str, bytes | None] = {}
        self._lock = threading.Lock()
        self._current = ""

    # -- windows ---------------------------------------------------------------

    def window(self, now: datetime | None = None) -> str:
        """The current window's name: the date it began, as YYYYMMDD."""
        return _window_of_day((now or self.clock()).date(), self.window_days)

    def _key(self, window: str, *, create: bool) -> bytes | None:
        """The HMAC key of ``window``: None when its salt is gone (or, with create=False,
        was never made)."""
        with self._lock:
            if window in self._keys and (self._keys[window] is not None or not create):
                return self._keys[window]
        if window == LEGACY:
            key = self.legacy_salt.encode() if self.legacy_salt else None
        else:
            salt = self._salt(window, create=create)
            key = hmac.digest(self.secret, b"rostra.ip:" + salt.encode(), "sha256") if (
                salt is not None) else None
        with self._lock:
            self._keys[window] = key
        return key

    def _salt(self, window: str, *, create: bool) -> str | None:
        name = SALT_PREFIX + window
        with self.db.read() as conn:
            value = conn.scalar(select(meta.c.value).where(meta.c.key == name))
        if value is not None or not create:
            return None if value is None else str(value)
        try:
            with self.db.write() as conn:
                value = secrets.token_urlsafe(32)
                conn.execute(insert(meta).values(key=name, value=value))
        except IntegrityError:  # another worker made it first: use theirs
            with self.db.read() as conn:
                return str(conn.scalar(select(meta.c.value).where(meta.c.key == name)))
        # A new window began: the salts no one needs any more go now, once a window.
        self.prune()
        return value

    def windows_of_bans(self, now: datetime | None = None,
                        conn: Connection | None = None) -> set[str]:
        """The windows active address and network bans (on any site) were made in."""
        moment = now or self.clock()
        query = select(bans.c.value).distinct().where(
            bans.c.kind.in_(("ip", "range")), bans.c.lifted_at.is_(None),
            or_(bans.c.expires_at.is_(None), bans.c.expires_at > moment))
        if conn is not None:
            return {window_of(v) for v in conn.scalars(query)}
        with self.db.read() as reading:
            return {window_of(v) for v in reading.scalars(query)}

    def holds(self, conn: Connection, window: str) -> bool:
        """Whether ``window``'s salt is still there, kept until ``conn``'s transaction
        ends: a ban made in it keeps it from a prune running meanwhile (which waits for
        the lock, then sees the ban), and a ban made after a prune finds it gone."""
        if window == LEGACY:
            return self.legacy_salt is not None
        return conn.execute(select(meta.c.key).where(meta.c.key == SALT_PREFIX + window)
                            .with_for_update(read=True)).first() is not None

    # -- hashing ---------------------------------------------------------------

    def hash(self, ip: str | None, *, window: str | None = None) -> str | None:
        """``<window>.<32 hex>`` for ``ip`` in the current (or the given) window; None
        for no address, or for a window whose salt is gone."""
        text = canonical_address(ip) if ip else None
        if text is None:
            return None
        return self.hash_canonical(text, window=window)

    def hash_canonical(self, text: str, *, window: str | None = None) -> str | None:
        """The hash of an address already in canonical form (a network's address)."""
        current = self.window()
        if current != self._current:
            self._forget_old_keys(current)
        name = window or current
        key = self._key(name, create=name == current)
        if key is None:
            return None
        digest = hmac.digest(key, text.encode(), "sha256").hex()[:32]
        return digest if name == LEGACY else f"{name}.{digest}"

    def _forget_old_keys(self, current: str) -> None:
        """A new window began: keys of windows before the previous one leave memory too
        (read again from the database while a ban keeps their salt, else gone)."""
        with self._lock:
            self._current = current
            for name in list(self._keys):
                if name != LEGACY and name < current and name != self._previous(current):
                    del self._keys[name]

    def _previous(self, current: str) -> str:
        start = datetime.strptime(current, "%Y%m%d").replace(tzinfo=UTC)
        return self.window(start - timedelta(days=self.window_days))

    # -- salts that are no longer needed -----------------------------------------

    def prune(self, keep: Iterable[str] = (), now: datetime | None = None) -> list[str]:
        """Delete the salts of windows older than the previous one, except those active
        bans were made in and those in ``keep``; returns the windows deleted. The salts
        are locked before the bans are read, so a ban placed meanwhile is seen
        (``holds``)."""
        current = self.window(now)
        previous = self.window((now or self.clock()) - timedelta(days=self.window_days))
        kept = set(keep) | {current, previous}
        old: list[str] = []
        for attempt in attempts("pruning address salts", idempotent=True):
            with attempt, self.db.write() as conn:
                old = list(conn.scalars(select(meta.c.key).where(
                    meta.c.key.startswith(SALT_PREFIX),
                    meta.c.key.not_in([SALT_PREFIX + name for name in kept]),
                ).with_for_update()))
                if old:
                    banned = self.windows_of_bans(now, conn)
                    old = [n for n in old if n[len(SALT_PREFIX):] not in banned]
                if old:
                    conn.execute(delete(meta).where(meta.c.key.in_(old)))
        with self._lock:
            for name in old:
                self._keys.pop(name[len(SALT_PREFIX):], None)
        return [n[len(SALT_PREFIX):] for n in old]


@lru_cache(maxsize=64)  # asked several times a post; strftime cost more than the rest
def _window_of_day(day: date, window_days: int) -> str:
    start = EPOCH + timedelta(days=(day - EPOCH).days // window_days * window_days)
    return start.strftime("%Y%m%d")


def ip_hasher_for(db: Database, secret_key: str | None, *, window_days: int = 7) -> IpHasher:
    """The server's hasher, keyed with the settings' secret and reading hashes made before
    keyed hashing with the database's old salt. Without a secret in the settings the
    database's own is used: then a copy of the database can test addresses against the
    hashes of the windows whose salts it still holds (``rostra init`` writes a secret)."""
    return IpHasher(db, secret_key or db.secret("secret_key"), window_days=window_days,
                    legacy_salt=db.secret("ip_salt"))
