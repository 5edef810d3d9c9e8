"""Proof of work instead of a CAPTCHA: ALTCHA-style SHA-256 challenges.

The server picks a secret ``number`` up to ``maxnumber`` and publishes
``challenge = sha256(salt + number)`` with an HMAC ``signature``; the client tries
numbers from 0 until the hash matches (about maxnumber / 2 hashes on average) and
sends back the number. The salt carries the expiry, the site and the difficulty, all
covered by the signature, so the server keeps nothing per challenge until it is spent.
A spent challenge is kept (pow_used) until it expires: it cannot be replayed.

The solution travels as base64 of the JSON object
``{"algorithm", "challenge", "number", "salt", "signature"}`` (ALTCHA's payload).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson

ALGORITHM = "SHA-256"
LIFETIME_SECONDS = 600


class PowError(StrEnum):
    """Why a solution was not accepted (the reason code given to the author)."""

    MISSING = "pow_required"
    MALFORMED = "pow_invalid"
    WRONG = "pow_invalid"
    EXPIRED = "pow_expired"
    OTHER_SITE = "pow_invalid"
    TOO_EASY = "pow_too_easy"
    REPLAYED = "pow_replayed"


@dataclass(frozen=True, slots=True)
class Solved:
    """A solution that checks out; ``challenge`` must still be marked as spent."""

    challenge: str
    expires_at: float
    difficulty: int


class ProofOfWork:
    def __init__(self, key: str, lifetime: int = LIFETIME_SECONDS) -> None:
        self.key = key.encode()
        self.lifetime = lifetime

    def _sign(self, challenge: str) -> str:
        return hmac.new(self.key, challenge.encode(), hashlib.sha256).hexdigest()

    def issue(self, site_id: str, difficulty: int, now: float | None = None) -> dict[str, Any]:
        """A new challenge for ``site_id`` that takes about ``difficulty / 2`` hashes."""
        expires = int((now or time.time()) + self.lifetime)
        salt = secrets.token_hex(12) + "?" + urlencode(
            {"expires": expires, "site": site_id, "d": difficulty}
        )
        number = secrets.randbelow(difficulty + 1)
        challenge = hashlib.sha256(f"{salt}{number}".encode()).hexdigest()
        return {
            "algorithm": ALGORITHM, "challenge": challenge, "maxnumber": difficulty,
            "salt": salt, "signature": self._sign(challenge), "expires": expires,
        }

    def verify(
        self, payload: str | None, site_id: str, min_difficulty: int, now: float | None = None
    ) -> Solved | PowError:
        """Check a solution (without the replay check, which needs the database)."""
        if not payload:
            return PowError.MISSING
        try:
            data = orjson.loads(base64.b64decode(payload, validate=True))
            challenge, salt = str(data["challenge"]), str(data["salt"])
            number, signature = int(data["number"]), str(data["signature"])
            if data.get("algorithm", ALGORITHM) != ALGORITHM:
                return PowError.MALFORMED
        except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            return PowError.MALFORMED
        if not hmac.compare_digest(self._sign(challenge), signature):
            return PowError.WRONG
        if hashlib.sha256(f"{salt}{number}".encode()).hexdigest() != challenge:
            return PowError.WRONG
        params = parse_qs(salt.partition("?")[2])
        try:
            expires = int(params["expires"][0])
            difficulty = int(params["d"][0])
            site = params["site"][0]
        except (KeyError, ValueError, IndexError):
            return PowError.MALFORMED
        if expires < (now or time.time()):
            return PowError.EXPIRED
        if site != site_id:
            return PowError.OTHER_SITE
        if difficulty < min_difficulty:
            return PowError.TOO_EASY
        return Solved(challenge, float(expires), difficulty)


def solve(challenge: dict[str, Any]) -> str:
    """Solve a challenge the way the widget does (for tests, benchmarks and scripts)."""
    salt, target = challenge["salt"], challenge["challenge"]
    for number in range(int(challenge["maxnumber"]) + 1):
        if hashlib.sha256(f"{salt}{number}".encode()).hexdigest() == target:
            payload = {"algorithm": ALGORITHM, "challenge": target, "number": number,
                       "salt": salt, "signature": challenge["signature"]}
            return base64.b64encode(orjson.dumps(payload)).decode()
    raise ValueError("no solution: the challenge is not genuine")
