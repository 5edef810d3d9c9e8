"""Rate limits on votes and subscriptions, as a plain ASGI middleware.

Posting is limited inside the pipeline (per site, with the site's policy); votes and
subscriptions are limited here, before the handler runs, per voter id and IP hash,
with the default rates of ``RateLimits`` (they name a comment or an email, not a site).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from rostra.api.problems import problem
from rostra.api.routes import client_ip
from rostra.moderation.ip_hashing import IpHasher
from rostra.moderation.policy import RateLimits
from rostra.moderation.ratelimit import RateLimiter

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

# (method, path pattern, RateLimits field)
LIMITED = (
    ("POST", re.compile(r"^/api/comments/\d+/vote$"), "vote"),
    ("POST", re.compile(r"^/api/notes/\d+/rating$"), "vote"),
    ("POST", re.compile(r"^/api/subscriptions$"), "subscribe"),
    # The appeal form behind a statement's emailed link (the API's appeal counts itself).
    ("POST", re.compile(r"^/dsa/statement$"), "appeal"),
    # The notifier's complaint form behind a notice decision's emailed link: a bucket
    # of its own, so that neither side's use spends the other's.
    ("POST", re.compile(r"^/dsa/notice$"), "complaint"),
    # Passkey challenges and email codes: each call writes, most before a sign-in.
    ("POST", re.compile(r"^/auth/(?:passkey/(?:options|session)|email/session)$"), "sign_in"),
    ("POST", re.compile(r"^/api/account/passkeys(?:/options)?$"), "sign_in"),
    # A reader's copy of their data is gathered from many tables; erasing writes many.
    ("GET", re.compile(r"^/api/account/data$"), "sign_in"),
    ("POST", re.compile(r"^/api/account/erase$"), "sign_in"),
)


class ThrottleMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter, ips: IpHasher,
                 trusted_proxies: list[str], rates: RateLimits | None = None) -> None:
        self.app = app
        self.limiter = limiter
        self.ips = ips
        self.trusted = trusted_proxies
        self.rates = rates or RateLimits()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for method, pattern, field in LIMITED:
                if scope["method"] == method and pattern.match(scope["path"]):
                    wait = self._hit(scope, field)
                    if wait is not None:
                        response = problem(
                            429, "rate_limited", "Too many requests",
                            f"too many {field} requests just now; please wait {wait} seconds",
                            retry_after=wait,
                        )
                        await response(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)

    def _hit(self, scope: Scope, field: str) -> int | None:
        request = Request(scope)
        keys = []
        ip = client_ip(request, self.trusted)
        if ip:
            ip_hash = self.ips.hash(ip)
            if ip_hash:
                keys.append(f"i:{ip_hash}")
        voter = request.headers.get("x-rostra-voter")
        if voter:
            keys.append(f"v:{voter[:100]}")
        spec: str = getattr(self.rates, field)
        return self.limiter.hit(spec, field, keys)
