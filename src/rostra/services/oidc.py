"""OpenID Connect sign-in for readers: the authorization code flow with PKCE.

The provider's metadata comes from its discovery document; ID tokens are checked with
joserfc against the provider's published keys (signature, issuer, audience, expiry and
the nonce this server chose), never trusted as sent.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from rostra.config import OidcProvider
from rostra.core.errors import RostraError

METADATA_SECONDS = 3600.0
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
TIMEOUT = 10.0


class SignInFailed(RostraError):
    status = 400
    code = "sign_in_failed"
    title = "Sign-in failed"


@dataclass(frozen=True, slots=True)
class Start:
    """What one sign-in attempt must remember until the provider sends the reader back."""

    state: str
    nonce: str
    verifier: str
    url: str  # where to send the reader


@dataclass(frozen=True, slots=True)
class Identity:
    subject: str
    name: str
    email: str | None


def _says_verified(claim: Any) -> bool:
    """Whether the ID token's ``email_verified`` says the provider verified the address:
    true, or the string "true" (some providers, Amazon Cognito among them, send
    strings). Absent, false, "false" or anything else: not verified, so the address is
    neither kept nor used to find the reader's account."""
    return claim is True or (isinstance(claim, str) and claim.strip().lower() == "true")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class OidcClient:
    """One provider: discovery, the redirect, the code exchange, the ID token check."""

    def __init__(self, provider: OidcProvider) -> None:
        self.provider = provider
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, Any]] | None = None
        self._keys: KeySet | None = None

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            cached = self._metadata
        if cached is not None and time.monotonic() - cached[0] < METADATA_SECONDS:
            return cached[1]
        url = self.provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        data = self._get_json(url)
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "issuer"):
            if not isinstance(data.get(key), str):
                raise SignInFailed(f"{self.provider.name}: the provider's metadata has no {key}")
        if data["issuer"].rstrip("/") != self.provider.issuer.rstrip("/"):
            raise SignInFailed(f"{self.provider.name}: the metadata names another issuer")
        with self._lock:
            self._metadata = (time.monotonic(), data)
        return data

    def start(self, redirect_uri: str) -> Start:
        meta = self.metadata()
        state, nonce, verifier = (secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                                  secrets.token_urlsafe(48))
        query = urlencode({
            "response_type": "code", "client_id": self.provider.client_id,
            "redirect_uri": redirect_uri, "scope": self.provider.scopes, "state": state,
            "nonce": nonce, "code_challenge": _s256(verifier), "code_challenge_method": "S256",
        })
        endpoint = meta["authorization_endpoint"]
        return Start(state, nonce, verifier, f"{endpoint}{'&' if '?' in endpoint else '?'}{query}")

    def finish(self, code: str, redirect_uri: str, verifier: str, nonce: str) -> Identity:
        """Exchange the code and check the ID token; the reader it names."""
        meta = self.metadata()
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": redirect_uri, "client_id": self.provider.client_id,
                "code_verifier": verifier}
        if self.provider.client_secret:
            form["client_secret"] = self.provider.client_secret
        try:
            response = httpx.post(meta["token_endpoint"], data=form, timeout=TIMEOUT,
                                  headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise SignInFailed(f"{self.provider.name}: the provider did not answer") from exc
        if response.status_code != 200:
            raise SignInFailed(f"{self.provider.name}: the provider refused the code "
                               f"(HTTP {response.status_code})")
        try:
            id_token = response.json()["id_token"]
        except (ValueError, KeyError, TypeError):
            raise SignInFailed(f"{self.provider.name}: no ID token in the answer") from None
        claims = self._claims(str(id_token), nonce)
        name = (claims.get("name") or claims.get("preferred_username")
                or claims.get("given_name") or "")
        email = claims.get("email") if _says_verified(claims.get("email_verified")) else None
        if not isinstance(name, str) or not name.strip():
            name = (email or "").split("@")[0] or "Reader"
        return Identity(f"{self.provider.name}:{claims['sub']}", name.strip()[:400],
                        email if isinstance(email, str) else None)

    def _claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        for refresh in (False, True):  # keys rotate: fetch them again once before refusing
            keys = self._key_set(refresh)
            try:
                token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
                break
            except JoseError as exc:
                if refresh:
                    raise SignInFailed(f"{self.provider.name}: the ID token's signature "
                                       "does not check") from exc
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": self.metadata()["issuer"]},
            aud={"essential": True, "value": self.provider.client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise SignInFailed(f"{self.provider.name}: the ID token is not for this "
                               f"sign-in ({exc.error})") from exc
        return claims

    def _key_set(self, refresh: bool) -> KeySet:
        with self._lock:
            keys = self._keys
        if keys is None or refresh:
            published: Any = self._get_json(self.metadata()["jwks_uri"])
            keys = KeySet.import_key_set(published)
            with self._lock:
                self._keys = keys
        return keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInFailed(f"{self.provider.name}: cannot read {url}") from exc
        if not isinstance(data, dict):
            raise SignInFailed(f"{self.provider.name}: {url} is not a JSON object")
        return data
