"""The keys that identify an author for bans, reputation and flags, all hashed.

A raw IP address is used only here, at post time, to derive the hashes of the
networks it belongs to; it is never stored. Range keys let a moderator ban "the /24
this comment came from" later without anyone keeping addresses.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rostra.moderation.decision import Draft
from rostra.services.privacy import hash_ip

if TYPE_CHECKING:
    from rostra.moderation.checks import Inspection

# (prefix length, key prefix) of the ranges kept per address family, narrow first.
IPV4_RANGES = ((24, "r24"), (16, "r16"))
IPV6_RANGES = ((48, "r48"), (32, "r32"))


def email_key(email: str, salt: str) -> str:
    digest = hmac.digest(salt.encode(), b"email:" + email.strip().casefold().encode(),
                         "sha256").hex()[:32]
    return f"e:{digest}"


def range_keys(ip: str | None, salt: str) -> list[str]:
    """Hashed keys of the networks around ``ip`` (/24 and /16, or /48 and /32 for IPv6)."""
    if not ip:
        return []
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return []
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.version == 4:  # the common case, spelled out: "a.b.c.0" and "a.b.0.0"
        a, b, c, _ = addr.packed
        return [f"r24:{_hash_address(f'{a}.{b}.{c}.0', salt)}",
                f"r16:{_hash_address(f'{a}.{b}.0.0', salt)}"]
    number = int(addr)
    keys = []
    for prefix, name in IPV6_RANGES:
        # The network address by masking, as ip_network(strict=False) would give, at a
        # fraction of its cost; hashed exactly as hash_ip hashes that address.
        network = ipaddress.IPv6Address(number >> (128 - prefix) << (128 - prefix))
        keys.append(f"{name}:{_hash_address(str(network), salt)}")
    return keys


def _hash_address(text: str, salt: str) -> str:
    """hash_ip of an address already in its canonical form (and, for IPv6, a /64)."""
    return hmac.digest(salt.encode(), text.encode(), "sha256").hex()[:32]


def network_key(cidr: str, salt: str) -> str:
    """The ban key of an address or a network a moderator typed; raises ValueError."""
    network = ipaddress.ip_network(cidr.strip(), strict=False)
    if network.num_addresses == 1 or (network.version == 6 and network.prefixlen >= 64):
        return f"i:{hash_ip(str(network.network_address), salt)}"
    ranges = dict(IPV4_RANGES if network.version == 4 else IPV6_RANGES)
    if network.prefixlen not in ranges:
        allowed = " or ".join(f"/{p}" for p in ranges)
        raise ValueError(f"only single addresses or {allowed} networks can be banned")
    return f"{ranges[network.prefixlen]}:{hash_ip(str(network.network_address), salt)}"


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


def identity_of(draft: Draft, salt: str) -> Identity:
    """Every key of the draft's author; see ``identity_for`` inside the pipeline."""
    return Identity(
        account=f"a:{draft.account_id}" if draft.account_id is not None else None,
        email=email_key(draft.author_email, salt) if draft.author_email else None,
        voter=f"v:{draft.voter_id}" if draft.voter_id else None,
        ip=f"i:{draft.ip_hash}" if draft.ip_hash else None,
        ranges=tuple(range_keys(draft.ip, salt)),
    )


def identity_for(item: Inspection, salt: str) -> Identity:
    """The draft's Identity, computed once per inspection and shared by the checks."""
    found = item.scratch.get("identity")
    if found is None:
        found = item.scratch["identity"] = identity_of(item.draft, salt)
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
