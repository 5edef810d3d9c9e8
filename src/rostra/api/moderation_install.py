"""Wires the moderation engine into a running app: ``install(app, services)``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from rostra.api.dsa import ROUTERS as DSA_ROUTERS
from rostra.api.moderation import ROUTERS, Runtime
from rostra.api.notes import ROUTERS as NOTE_ROUTERS
from rostra.api.throttle import ThrottleMiddleware
from rostra.moderation.checks import Check
from rostra.moderation.checks.bans import BanCheck
from rostra.moderation.checks.caps import CapsCheck
from rostra.moderation.checks.duplicates import DuplicateCheck
from rostra.moderation.checks.language import LanguageCheck
from rostra.moderation.checks.length import LengthCheck
from rostra.moderation.checks.links import LinkCheck
from rostra.moderation.checks.pow import AttackMeter, PowCheck
from rostra.moderation.checks.ratelimit import RateLimitCheck
from rostra.moderation.checks.reputation import ReputationCheck
from rostra.moderation.checks.toxicity import ToxicityCheck
from rostra.moderation.checks.trust import TrustCheck
from rostra.moderation.checks.words import WordCheck
from rostra.moderation.engine import ModerationEngine
from rostra.moderation.identity import Hashing
from rostra.moderation.model import build_classifier, language_detector
from rostra.moderation.pow import ProofOfWork
from rostra.moderation.ratelimit import RateLimiter
from rostra.services.container import Services
from rostra.services.dsa import DsaService
from rostra.services.moderation import ModerationService
from rostra.services.notes import NoteService

log = logging.getLogger("rostra.moderation")
PRUNE_SECONDS = 300


def build_checks(
    service: ModerationService, limiter: RateLimiter, pow: ProofOfWork, meter: AttackMeter,
    *, rate_limits: bool, classifier: Any, hashing: Hashing,
) -> list[Check]:
    """The pipeline's checks, in its documented order (see rostra.moderation.pipeline)."""
    checks: list[Check] = [BanCheck(service.active_ban, hashing, service.views.bans.windows)]
    if rate_limits:
        checks.append(RateLimitCheck(limiter))
    checks += [
        PowCheck(pow, meter, service.spend_pow),
        TrustCheck(service.history, service.account_created, hashing),
        LengthCheck(),
        LinkCheck(),
        WordCheck(),
        CapsCheck(),
        DuplicateCheck(),
        LanguageCheck(language_detector()),
    ]
    if classifier is not None:
        checks.append(ToxicityCheck(classifier))
    checks.append(ReputationCheck(service.history, hashing))
    return checks


def install(app: FastAPI, services: Services) -> None:
    settings = services.settings
    service = ModerationService(services.comments)
    limiter = RateLimiter(settings.redis_url)
    pow = ProofOfWork(services.db.secret("pow_key"))
    meter = AttackMeter(limiter)
    classifier = build_classifier(settings.classifier, services.db)
    checks = build_checks(service, limiter, pow, meter, rate_limits=settings.rate_limits,
                          classifier=classifier, hashing=services.comments.hashing)
    engine = ModerationEngine(services.sites, checks,
                              encoder=classifier.encoder if classifier is not None else None)
    services.comments.moderator = engine
    services.comments.tx_hooks.append(service.embedding_hook(engine.stash))
    if classifier is not None:
        service.learners.append(classifier.learner(service))

    def refresh_badges(site_id: str, comment_id: int, action: str) -> None:
        # An author's trust may have crossed the site's line: their "Regular" badges
        # change on every page of the site.
        cache = getattr(app.state, "cache", None)
        if cache is not None and services.reading.shows_regulars(site_id):
            cache.invalidate([("pages", site_id)])

    service.learners.append(refresh_badges)
    app.state.moderation = Runtime(service, engine, limiter, pow, meter, settings.rate_limits)
    dsa = DsaService(service, lambda site_id: engine.policy_for(site_id).dsa)
    services.comments.tx_hooks.append(dsa.statement_hook)
    app.state.dsa = dsa
    app.state.notes = NoteService(services.comments)
    for router in (*ROUTERS, *DSA_ROUTERS, *NOTE_ROUTERS):
        app.include_router(router)
    if settings.rate_limits:
        app.add_middleware(ThrottleMiddleware, limiter=limiter, ips=services.comments.hashing.ips,
                           trusted_proxies=settings.trusted_proxies)

    async def prune_forever() -> None:
        while True:
            await asyncio.sleep(PRUNE_SECONDS)
            try:
                await run_in_threadpool(service.prune)
            except Exception:  # keep serving; the next round retries
                log.exception("pruning spent proof-of-work challenges failed")

    app.state.background.append(prune_forever)
    if classifier is not None:
        app.state.on_shutdown.append(classifier.close)
