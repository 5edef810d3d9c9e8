"""The webhook channel: JSON POSTs signed per Standard Webhooks, sent only to public
addresses.

Each call carries ``webhook-id`` (the delivery id, the same on every retry),
``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,<base64>``: the
HMAC-SHA256 of ``<id>.<timestamp>.<body>``), made by the ``standardwebhooks`` library,
so that a receiver verifies a call with one call of any Standard Webhooks library.

A webhook's secret is stored in the Standard Webhooks form ``whsec_<base64 of the key>``.
Secrets made before (any other string) were HMAC keys as their UTF-8 bytes: migration
0008 stored each as ``whsec_`` + base64 of those bytes, the same key.

Deprecated, sent for one more release: ``X-Rostra-Timestamp`` and ``X-Rostra-Signature:
sha256=<hex>``, the HMAC-SHA256 of ``<timestamp>.<body>`` under the same key.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from rostra.core.thread_keys import ThreadKeyError, check_host
from rostra.notify.model import TransportError

# Deprecated (one more release): the signature scheme before Standard Webhooks.
SIGNATURE_HEADER = "X-Rostra-Signature"
TIMESTAMP_HEADER = "X-Rostra-Timestamp"
EVENT_HEADER = "X-Rostra-Event"
DELIVERY_HEADER = "X-Rostra-Delivery"
USER_AGENT = "Rostra-Webhooks/1"
# Client errors that may pass: the receiver is busy or was briefly confused.
RETRYABLE_4XX = {408, 409, 425, 429}

SECRET_PREFIX = "whsec_"
# Standard Webhooks: keys of 24 to 64 random bytes; ours are 32.
KEY_BYTES = (24, 64)
LEGACY_SECRET_CHARS = (16, 200)


def new_secret() -> str:
    """A fresh secret in the Standard Webhooks form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a stored ``whsec_`` secret; ValueError for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX}")
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is base64 after its prefix") from None


def legacy_secret(plain: str) -> str:
    """The ``whsec_`` form of a secret from before Standard Webhooks: the same key (its
    UTF-8 bytes), so receivers that verify with the old secret keep working."""
    return SECRET_PREFIX + base64.b64encode(plain.encode()).decode()


def stored_secret(given: str) -> str:
    """A secret as given when a webhook is added, in the form stored; ValueError when it
    is neither a Standard Webhooks secret nor a plain one of the old kind."""
    if given.startswith(SECRET_PREFIX):
        try:
            key = secret_key(given)
        except ValueError:
            raise ValueError(f"{SECRET_PREFIX}… must be followed by base64") from None
        if not KEY_BYTES[0] <= len(key) <= KEY_BYTES[1]:
            raise ValueError(f"a {SECRET_PREFIX} secret holds {KEY_BYTES[0]} to "
                             f"{KEY_BYTES[1]} bytes (Standard Webhooks)")
        return given
    low, high = LEGACY_SECRET_CHARS
    if not low <= len(given) <= high:
        raise ValueError(f"{low} to {high} characters, or a {SECRET_PREFIX} secret")
    return legacy_secret(given)


def signature_headers(secret: str, delivery: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers, and the deprecated ones, of one call."""
    key = secret_key(secret)
    standard = Webhook(key).sign(delivery, datetime.fromtimestamp(timestamp, UTC), body)
    return {
        "webhook-id": delivery,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(key, timestamp, body),
    }


def sign(key: bytes | str, timestamp: int, body: bytes) -> str:
    """Deprecated: the ``X-Rostra-Signature`` value for ``body`` sent at ``timestamp``
    (a str key is taken as its UTF-8 bytes, as secrets were before Standard Webhooks)."""
    raw = key.encode() if isinstance(key, str) else key
    digest = hmac.new(raw, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(key: bytes | str, timestamp: str, body: bytes, signature: str,
           tolerance: int = 300, now: float | None = None) -> bool:
    """Deprecated (use ``standardwebhooks.Webhook(secret).verify``): what a receiver of
    ``X-Rostra-Signature`` does: the signature matches and the timestamp is fresh."""
    if not timestamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(key, int(timestamp), body), signature)


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
        try:
            signed = signature_headers(secret, delivery, timestamp, body)
        except ValueError as exc:
            raise TransportError(f"webhook secret: {exc}", permanent=True) from None
        headers = {
            "Host": target.netloc,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery,
            **signed,
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
