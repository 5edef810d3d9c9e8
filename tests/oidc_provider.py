"""An OpenID Connect provider on a loopback port, standing in for Google, Keycloak and
the like in sign-in tests: discovery, an authorization endpoint that approves at once,
a token endpoint that checks the code, redirect URI, client secret and PKCE verifier,
and RS256 ID tokens signed with a key it publishes."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.conftest import ThreadedServer


@dataclass
class LoopbackProvider:
    client_id: str = "rostra-test"
    client_secret: str = "s3cret"
    claims: dict[str, Any] = field(default_factory=lambda: {
        "sub": "4711", "name": "Olga Provider", "email": "olga@id.example",
        "email_verified": True})
    tamper: dict[str, Any] = field(default_factory=dict)  # claims to override in ID tokens
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    server: ThreadedServer | None = None
    # A key other than the published one (same kid), to sign ID tokens with: a forgery.
    forged_with: RSAKey | None = None

    @property
    def issuer(self) -> str:
        assert self.server is not None
        return self.server.url

    def app(self) -> Starlette:
        async def discovery(_: Request) -> Response:
            return JSONResponse({
                "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "id_token_signing_alg_values_supported":
                ["RS256"], "code_challenge_methods_supported": ["S256"]})

        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != self.client_id or q.get("code_challenge_method") != "S256":
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": q["nonce"], "challenge": q["code_challenge"],
                                "redirect_uri": q["redirect_uri"]}
            return RedirectResponse(
                f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

        async def token(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode()))
            grant = self.codes.pop(str(form.get("code")), None)
            verifier = str(form.get("code_verifier", ""))
            challenge = base64.urlsafe_b64encode(
                hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if (grant is None or form.get("redirect_uri") != grant["redirect_uri"]
                    or form.get("client_secret") != self.client_secret
                    or challenge != grant["challenge"]):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {"iss": self.issuer, "aud": self.client_id, "iat": now,
                      "exp": now + 300, "nonce": grant["nonce"], **self.claims, **self.tamper}
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims,
                                  self.forged_with or self.key)
            return JSONResponse({"id_token": id_token, "access_token": "unused",
                                 "token_type": "Bearer"})

        async def jwks(_: Request) -> Response:
            return JSONResponse(KeySet([self.key]).as_dict(private=False))

        return Starlette(routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/authorize", authorize), Route("/token", token, methods=["POST"]),
            Route("/jwks", jwks),
        ])

    def start(self) -> LoopbackProvider:
        self.server = ThreadedServer(self.app())
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
