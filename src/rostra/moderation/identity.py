"""The keys that identify an author for bans, reputation and flags, all hashed.

A raw IP address is used only here, at post time, to derive the hashes of the
networks it belongs to; it is never stored. Range keys let a moderator ban "the /24
this comment came from" later without anyone keeping addresses.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rostra.moderation.decision import Draft
from rostra.moderation.ip_hashing import IpHasher

if TYPE_CHECKING:
    from rostra.moderation.checks import Inspection

# (prefix length, key prefix) of the ranges kept per address family, narrow first.
IPV4_RANGES = ((24, "r24"), (16, "r16"))
IPV6_RANGES = ((48, "r48"), (32, "r32"))


class Hashing:
    """What identity keys are hashed with: emails under the database's salt (an email
    key must stay the same for as long as a ban or a reputation needs it), addresses
    under the keyed salt of a window (see rostra.moderation.ip_hashing)."""

    def __init__(self, email_salt: str, ips: IpHasher) -> None:
        self.email_salt = email_salt
        self.ips = ips

    def ip(self, ip: str | None, *, window: str | None = None) -> str | None:
        return self.ips.hash(ip, window=window) if ip else None


def email_key(email: str, salt: str) -> str:
    digest = hmac.digest(salt.encode(), b"email:" + email.strip().casefold().encode(),
                         "sha256").hex()[:32]
    return f"e:{digest}"


def range_keys(ip: str | None, hashing: Hashing, *, window: str | None = None) -> list[str]:
    """Hashed keys of the networks around ``ip`` (/24 and /16, or /48 and /32 for IPv6),
    in the current window or the one given (none when that window's salt is gone)."""
    if not ip:
        return []
    keys = []
    for name, text in _networks_of(ip):
        digest = hashing.ips.hash_canonical(text, window=window)
        if digest is None:
            return []
        keys.append(f"{name}:{digest}")
    return keys


@lru_cache(maxsize=4096)  # parsing cost more than hashing; a poster's address recurs
def _networks_of(ip: str) -> tuple[tuple[str, str], ...]:
    """(key prefix, network address) of the ranges kept for ``ip``; () for no address."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ()
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.version == 4:  # the common case, spelled out: "a.b.c.0" and "a.b.0.0"
        a, b, c, _ = addr.packed
        return (("r24", f"{a}.{b}.{c}.0"), ("r16", f"{a}.{b}.0.0"))
    number = int(addr)
    # The network address by masking, as ip_network(strict=False) would give, at a
    # fraction of its cost.
    return tuple((name, str(ipaddress.IPv6Address(number >> (128 - prefix) << (128 - prefix))))
                 for prefix, name in IPV6_RANGES)


def network_key(cidr: str, hashing: Hashing, *, window: str | None = None) -> str | None:
    """The ban key of an address or a network a moderator typed, in the current window or
    the one given (None when that window's salt is gone); raises ValueError."""
    network = ipaddress.ip_network(cidr.strip(), strict=False)
    if network.num_addresses == 1 or (network.version == 6 and network.prefixlen >= 64):
        digest = hashing.ip(str(network.network_address), window=window)
        return f"i:{digest}" if digest else None
    ranges = dict(IPV4_RANGES if network.version == 4 else IPV6_RANGES)
    if network.prefixlen not in ranges:
        allowed = " or ".join(f"/{p}" for p in ranges)
        raise ValueError(f"only single addresses or {allowed} networks can be banned")
    digest = hashing.ips.hash_canonical(str(network.network_address), window=window)
    return f"{ranges[network.prefixlen]}:{digest}" if digest else None


@dataclass(frozen=True, slots=True)
class Identity:
    """Every key of one author at post time, strongest first."""

    account: str | None
    email: str | None
    voter: str | None
    ip: str | None
    ranges: tuple[str, ...]

    def all(self) -> list[str]:
        keys = [k for k in (self.account, self.email, self.voter, self.ip) if k]
        return keys + list(self.ranges)

    @property
    def author(self) -> str | None:
        """The one key reputation is kept under: account, else email, else voter id."""
        return self.account or self.email or self.voter


def identity_of(draft: Draft, hashing: Hashing) -> Identity:
    """Every key of the draft's author; see ``identity_for`` inside the pipeline."""
    return Identity(
        account=f"a:{draft.account_id}" if draft.account_id is not None else None,
        email=email_key(draft.author_email, hashing.email_salt) if draft.author_email else None,
        voter=f"v:{draft.voter_id}" if draft.voter_id else None,
        ip=f"i:{draft.ip_hash}" if draft.ip_hash else None,
        ranges=tuple(range_keys(draft.ip, hashing)),
    )


def address_keys_in(windows: Iterable[str], ip: str | None, hashing: Hashing) -> list[str]:
    """The address and range keys of ``ip`` as they were made in each of ``windows``:
    a ban placed in an earlier window keeps matching the same address now."""
    keys: list[str] = []
    for window in windows:
        digest = hashing.ip(ip, window=window)
        if digest:
            keys.append(f"i:{digest}")
        keys += range_keys(ip, hashing, window=window)
    return keys


def identity_for(item: Inspection, hashing: Hashing) -> Identity:
    """The draft's Identity, computed once per inspection and shared by the checks."""
    found = item.scratch.get("identity")
    if found is None:
        found = item.scratch["identity"] = identity_of(item.draft, hashing)
    return found


def author_key_of_row(row: object, salt: str) -> str | None:
    """The reputation key of a stored comment (same rule as Identity.author)."""
    account_id = getattr(row, "account_id", None)
    if account_id is not None:
        return f"a:{account_id}"
    email = getattr(row, "author_email", None)
    if email:
        return email_key(email, salt)
    voter = getattr(row, "voter_id", None)
    return f"v:{voter}" if voter else None
