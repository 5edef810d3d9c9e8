"""The Moderator the comment service calls: site policy + pipeline -> Decision."""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

from rostra.core.errors import InvalidInput, TooManyRequests
from rostra.moderation.checks import Check
from rostra.moderation.checks.ratelimit import RATE_LIMITED
from rostra.moderation.decision import Action, Decision, Draft
from rostra.moderation.pipeline import Pipeline
from rostra.moderation.policy import Policy, parse_policy

log = logging.getLogger("rostra.moderation")


class EmbeddingStash:
    """Embeddings computed while deciding, waiting for their comment's id.

    The decision is made before the comment is stored; the transaction hook that sees
    the new comment takes its embedding from here by the ``ref`` kept in the facts.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._items: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.capacity = capacity

    def __bool__(self) -> bool:
        return bool(self._items)

    def put(self, encoder: str, embedding: Any) -> str:
        ref = secrets.token_hex(8)
        with self._lock:
            self._items[ref] = (encoder, embedding)
            while len(self._items) > self.capacity:  # refused or failed posts never collect
                self._items.popitem(last=False)
        return ref

    def take(self, ref: str) -> tuple[str, Any] | None:
        with self._lock:
            return self._items.pop(ref, None)


class ModerationEngine:
    """Decides about drafts with the policy of their site."""

    def __init__(self, sites: Any, checks: list[Check], encoder: str | None = None) -> None:
        self.sites = sites
        self.pipeline = Pipeline(checks)
        self.encoder = encoder
        self.stash = EmbeddingStash()
        self._policies: dict[str, tuple[int, Policy]] = {}

    def policy_for(self, site_id: str) -> Policy:
        """The site's Policy, parsed once per version of its settings."""
        section = self.sites.settings_of(site_id).moderation
        cached = self._policies.get(site_id)
        if cached is not None and cached[0] == id(section):
            return cached[1]
        try:
            policy = parse_policy(section)
        except InvalidInput as exc:
            # Settings are validated when saved; one that slipped through must not stop
            # comments: the defaults apply and the operator hears about it.
            log.warning("site %s: invalid moderation settings, using defaults: %s",
                        site_id, exc.detail)
            policy = Policy()
        self._policies[site_id] = (id(section), policy)
        return policy

    def decide(self, draft: Draft) -> Decision:
        """The Decision for ``draft``; raises TooManyRequests when a rate limit is hit."""
        policy = self.policy_for(draft.site_id)
        decision, item = self.pipeline.decide(draft, policy)
        if decision.action is Action.REFUSE:
            if any(r.code == RATE_LIMITED for r in decision.reasons):
                raise TooManyRequests(
                    decision.message or "too many requests", code=RATE_LIMITED,
                    retry_after=int(decision.facts.get("retry_after", 60)),
                )
            return decision
        embedding = item.scratch.get("embedding")
        if embedding is not None and self.encoder and not draft.extras.get("edit"):
            ref = self.stash.put(self.encoder, embedding)
            decision = replace(decision, facts={**decision.facts, "ref": ref})
        return decision
