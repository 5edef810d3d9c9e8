"""The webhook channel: signed JSON POSTs, sent only to public addresses.

Each call carries ``X-Rostra-Timestamp`` (Unix seconds) and ``X-Rostra-Signature:
sha256=<hex>``, the HMAC-SHA256 of ``<timestamp>.<body>`` under the webhook's secret.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from rostra.core.thread_keys import ThreadKeyError, check_host
from rostra.notify.model import TransportError

SIGNATURE_HEADER = "X-Rostra-Signature"
TIMESTAMP_HEADER = "X-Rostra-Timestamp"
EVENT_HEADER = "X-Rostra-Event"
DELIVERY_HEADER = "X-Rostra-Delivery"
USER_AGENT = "Rostra-Webhooks/1"
# Client errors that may pass: the receiver is busy or was briefly confused.
RETRYABLE_4XX = {408, 409, 425, 429}


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str,
           tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is fresh."""
    if not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def check_url(url: str) -> str:
    """Raise ValueError unless ``url`` is an http(s) URL a webhook may use."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    try:
        check_host(parts.hostname)
    except ThreadKeyError:
        raise ValueError("the host is not a host name or IP address") from None
    if parts.username or parts.password:
        raise ValueError("must not contain a user name or password")
    if len(url) > 2000:
        raise ValueError("at most 2000 characters")
    return url


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved webhook URL: connect to ``ip``, but speak to ``host``."""

    url: str
    host: str
    netloc: str
    ip: str


async def resolve(url: str, allow_private: bool) -> Target:
    """Resolve the URL's host once and pick the address to connect to; refuse private,
    loopback and link-local addresses unless ``allow_private``. Connecting to the very
    address that was checked keeps DNS rebinding out."""
    try:
        check_url(url)
    except ValueError as exc:
        raise TransportError(f"webhook URL {exc}", permanent=True) from None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        raise TransportError(f"cannot resolve {host}: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise TransportError(f"cannot resolve {host}")
    if not allow_private and not all(is_public(a) for a in addresses):
        raise TransportError(
            f"{host} resolves to a private or local address; webhooks may not go there "
            "(setting allow_private_webhooks)", permanent=True,
        )
    ip = addresses[0]
    literal = f"[{ip}]" if ":" in ip else ip
    target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    return Target(target, host, parts.netloc, ip)


class WebhookTransport:
    """POSTs one signed body; raises TransportError(permanent=…)."""

    def __init__(self, allow_private: bool, timeout: float = 10.0) -> None:
        self.allow_private = allow_private
        self.timeout = timeout

    async def send(self, url: str, secret: str, body: bytes, event: str, delivery: str) -> None:
        target = await resolve(url, self.allow_private)
        timestamp = int(time.time())
        headers = {
            "Host": target.netloc,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        }
        # trust_env off: a proxy from the environment would connect somewhere unchecked.
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False,
                                     trust_env=False) as client:
            try:
                response = await client.post(
                    target.url, content=body, headers=headers,
                    extensions={"sni_hostname": target.host},
                )
            except httpx.HTTPError as exc:
                raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        permanent = 300 <= status < 500 and status not in RETRYABLE_4XX
        raise TransportError(f"receiver answered {status}", permanent=permanent)
