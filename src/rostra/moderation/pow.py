"""Proof of work instead of a CAPTCHA: ALTCHA challenges (its Proof-of-Work v2), created
and verified by the ALTCHA project's library (PyPI ``altcha``).

A challenge is ALTCHA's ``{"parameters", "signature"}``. The server picks a secret
counter up to the difficulty and derives a key from it, SHA-256(salt + nonce + counter
as a big-endian uint32) (algorithm ``SHA-256``, cost 1); the first half of that key is
published as ``keyPrefix``. The client tries counters from 0 until a key starts with
the prefix (about difficulty / 2 hashes on average, as with the earlier ALTCHA format)
and sends back the counter and the key. The parameters carry the expiry (``expiresAt``)
and, in ``data``, the site and the difficulty, all covered by the HMAC signature, so
the server keeps nothing per challenge until it is spent. A spent challenge is kept
(pow_used, by its signature) until it expires: it cannot be replayed.

The solution travels as base64 of ALTCHA's payload JSON ``{"challenge": {"parameters",
"signature"}, "solution": {"counter", "derivedKey"}}``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import altcha

ALGORITHM = "SHA-256"
COST = 1  # one hash per counter: the difficulty is the number of counters
LIFETIME_SECONDS = 600
MAX_PAYLOAD = 2000  # characters of base64; a genuine payload has about 700


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
    """A solution that checks out; ``challenge`` (its signature) must still be marked as
    spent."""

    challenge: str
    expires_at: float
    difficulty: int


# What a payload from anyone may raise while it is parsed and checked.
_BAD_PAYLOAD = (ValueError, TypeError, KeyError, AttributeError, RecursionError, OverflowError)


class ProofOfWork:
    def __init__(self, key: str, lifetime: int = LIFETIME_SECONDS) -> None:
        self.key = key
        self.lifetime = lifetime

    def issue(self, site_id: str, difficulty: int, now: float | None = None) -> dict[str, Any]:
        """A new challenge for ``site_id`` that takes about ``difficulty / 2`` hashes."""
        expires = int((now if now is not None else time.time()) + self.lifetime)
        challenge = altcha.create_challenge(
            ALGORITHM, COST, counter=secrets.randbelow(difficulty + 1), expires_at=expires,
            data={"site": site_id, "difficulty": difficulty}, hmac_secret=self.key,
        )
        issued: dict[str, Any] = challenge.to_dict()
        return issued

    def verify(self, payload: str | None, site_id: str, min_difficulty: int) -> Solved | PowError:
        """Check a solution (without the replay check, which needs the database)."""
        if not payload:
            return PowError.MISSING
        if len(payload) > MAX_PAYLOAD:
            return PowError.MALFORMED
        try:
            parsed = altcha.Payload.from_base64(payload)
            result = altcha.verify_solution(parsed, self.key)
        except _BAD_PAYLOAD:
            return PowError.MALFORMED
        if result.expired:
            return PowError.EXPIRED
        if not result.verified:
            return PowError.WRONG
        # Signed by this server: only the shape of what another ALTCHA issuer sharing the
        # key might have signed is left to check.
        params = parsed.challenge.parameters
        data = params.data if isinstance(params.data, dict) else {}
        difficulty, expires = data.get("difficulty"), params.expires_at
        if type(difficulty) is not int or type(expires) is not int:
            return PowError.MALFORMED
        if data.get("site") != site_id:
            return PowError.OTHER_SITE
        if difficulty < min_difficulty:
            return PowError.TOO_EASY
        return Solved(str(parsed.challenge.signature), float(expires), difficulty)


def solve(challenge: dict[str, Any], timeout: float = 60.0) -> str:
    """Solve a challenge as the widget does, with the ALTCHA library's solver (for tests,
    benchmarks and scripts)."""
    parsed = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(parsed, timeout=timeout)
    if solution is None:
        raise ValueError("no solution in time: the challenge is not genuine")
    return str(altcha.Payload(parsed, solution).to_base64())
