"""Secrets sealed at rest: values the database keeps (a site's sign-on secret, its own
providers' client secrets, webhook secrets, staff TOTP secrets) are stored encrypted
with a key derived from the configured ``secret_key``, so that a copy of the database
alone does not hand them out.

A sealed value reads ``sealed:v1:<key id>:<base64url(nonce + AES-256-GCM ciphertext)>``.
The key is HKDF-SHA256 of ``secret_key``; the key id (8 hex digits, derived apart) names
the key a value was sealed with, so that a value sealed under another ``secret_key``
is told apart from a damaged one. The purpose (``sso``, ``totp``, …) is bound to the
ciphertext as associated data: a value opens only where it was sealed for. Anything
without the prefix is a plain value from before sealing and reads as it is.

Without a configured ``secret_key`` the server keeps a generated one in the database
itself, where sealing would protect nothing: a ``Sealer`` made with an empty key
writes plain values (and still reads plain ones).
"""

from __future__ import annotations

import base64
import binascii
import os
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed:"
VERSION = "v1"
NONCE_BYTES = 12
KEY_ID_CHARS = 8


class Purpose(StrEnum):
    """What a sealed value is; bound to it, so it opens nowhere else."""

    SSO = "sso"
    SITE_PROVIDER = "site_provider"
    WEBHOOK = "webhook"
    TOTP = "totp"


class Unsealable(Exception):  # noqa: N818 - a value, not an error of the caller's
    """A sealed value this server cannot open; ``reason`` says why in a sentence an
    operator can act on (it never holds the value)."""

    def __init__(self, reason: str, *, other_key: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.other_key = other_key  # sealed under another secret_key (not damaged)


def is_sealed(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def _derive(secret_key: str, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"rostra.sealing",
                info=info).derive(secret_key.encode())


class Sealer:
    """Seals and opens values with the key derived from ``secret_key`` (none: sealing off)."""

    def __init__(self, secret_key: str | None) -> None:
        self.active = bool(secret_key)
        self.key_id = ""
        self._aead: AESGCM | None = None
        if secret_key:
            self._aead = AESGCM(_derive(secret_key, b"rostra sealing v1 key", 32))
            self.key_id = _derive(secret_key, b"rostra sealing v1 key id", 4).hex()

    def seal(self, plain: str, purpose: Purpose) -> str:
        """The value to store: sealed when a key is configured, else ``plain`` itself.
        An empty value (a public client's secret) stays empty."""
        if self._aead is None or not plain:
            return plain
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode(), purpose.value.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}{VERSION}:{self.key_id}:{body}"

    def open(self, stored: str, purpose: Purpose) -> str:
        """The plain value of a stored one: a plain value as it is, a sealed one opened.
        Raises Unsealable when it was sealed under another key, with no key configured,
        or is damaged."""
        if not is_sealed(stored):
            return stored
        version, _, rest = stored[len(PREFIX):].partition(":")
        key_id, _, body = rest.partition(":")
        if version != VERSION:
            raise Unsealable(f"sealed in a format this version does not know ({version!r})",
                             other_key=False)
        if self._aead is None:
            raise Unsealable(f"sealed with secret_key {key_id}, but this server has no "
                             "secret_key configured", other_key=True)
        if key_id != self.key_id:
            raise Unsealable(f"sealed with another secret_key (key id {key_id}; this "
                             f"server's is {self.key_id})", other_key=True)
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            # Too short for a nonce and a tag: InvalidTag, or ValueError for the nonce.
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                       purpose.value.encode())
            return plain.decode()
        except (InvalidTag, ValueError, binascii.Error):
            raise Unsealable("sealed with this server's secret_key but damaged, or sealed "
                             "for another purpose", other_key=False) from None

    def sealed_here(self, stored: str) -> bool:
        """Whether a stored value is sealed with this server's key (by its key id)."""
        return self._aead is not None and stored.startswith(
            f"{PREFIX}{VERSION}:{self.key_id}:")
