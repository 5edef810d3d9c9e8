"""Personal data kept as little as possible: IPs only as salted hashes."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress


def hash_ip(ip: str, salt: str) -> str:
    """Salted hash of an IP address; IPv6 is cut to its /64 first (one household)."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if isinstance(addr, ipaddress.IPv6Address):
        text = str(ipaddress.ip_network(f"{addr}/64", strict=False).network_address)
    else:
        text = str(addr)
    return hmac.new(salt.encode(), text.encode(), hashlib.sha256).hexdigest()[:32]
