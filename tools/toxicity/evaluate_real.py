"""Judge the classifier on the public sets: in-domain, and across domains (leave one source out).

Run: python tools/toxicity/evaluate_real.py [--in-domain] [--cross] [--heads abusive,threat,...]
     [--views ngram,use3] [--only SOURCE ...] [--save PATH] [--markdown PATH]
In-domain: the base heads are fitted on every source's training split and scored on each
source's test split (20 % of its rows, fixed by a hash of the row id). Across domains:
for each public source, the base heads are fitted on all the other sources (ours
included) and scored on every row of that one, so the figure says what a site whose
comments resemble nothing we trained on can expect. Both read the shipped model's
stackers and lines (src/rostra/moderation/data/toxicity_model.npz): the stackers, a few
numbers per head, were fitted on source-grouped out-of-fold logits of all rows, the one
part not refitted per left-out source. Figures per source, per language within a source,
per class where the source labels it, and for civil comments by length.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit import base_logits, fit_base, sigmoid
from realdata import HEADS, Rows, embeddings, load_rows, ngram_matrix

from rostra.moderation.toxicity.heads import ShippedModel

WORD_BUCKETS = ((1, 3), (4, 10), (11, 30), (31, 10_000))
MIN_ROWS = 50  # a language inside a source is reported from this many labelled rows


def auc(y: NDArray[np.bool_], s: NDArray[np.float64]) -> float:
    from sklearn.metrics import roc_auc_score

    if len(y) == 0 or y.all() or (~y).all():
        return float("nan")
    return float(roc_auc_score(y, s))


def load_features(rows: Rows, views: tuple[str, ...]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in views:
        out[name] = ngram_matrix(rows) if name == "ngram" else embeddings(rows, name)
    return out


def stacker_of(model: ShippedModel, views: tuple[str, ...]) -> dict[str, NDArray[np.float64]]:
    table = model.stacker.cheap if views == ("ngram", "use3") else model.stacker.full
    return {h: table[j] for j, h in enumerate(model.heads)}


def predict(features: dict[str, object], rows: Rows, train: NDArray[np.bool_], idx: NDArray[np.int64],
            views: tuple[str, ...], heads: tuple[str, ...], coef: dict[str, NDArray[np.float64]]) -> dict[str, NDArray[np.float64]]:
    probs = {}
    for head in heads:
        learners = fit_base(features, rows, head, train & (rows.targets[head] >= 0), views)
        z = base_logits(features, learners, idx)
        probs[head] = sigmoid(z @ coef[head][: z.shape[1]] + coef[head][-1])
        for k, name in enumerate(views):
            probs[f"abusive:{name}" if head == "abusive" else f"{head}:{name}"] = sigmoid(z[:, k])
    return probs


def figures(rows: Rows, idx: NDArray[np.int64], probs: dict[str, NDArray[np.float64]],
            lines: dict[str, float], views: tuple[str, ...]) -> dict[str, Any]:
    label = rows.labels[idx]
    score = probs["abusive"]
    pair = (label == "abusive") | (label == "civil")
    civil, abusive = label == "civil", label == "abusive"
    out: dict[str, Any] = {
        "n": int(pair.sum()), "civil": int(civil.sum()), "abusive": int(abusive.sum()),
        "auc": auc(label[pair] == "abusive", score[pair]),
    }
    for name in views:
        out[f"auc_{name}"] = auc(label[pair] == "abusive", probs[f"abusive:{name}"][pair])
    nudge, hold, refuse = lines["toxicity_nudge"], lines["toxicity_hold"], lines["toxicity_refuse"]
    if civil.any():
        out["civil_nudged"] = float((score[civil] >= nudge).mean())
        out["civil_held"] = float((score[civil] >= hold).mean())
        out["civil_refused"] = float((score[civil] >= refuse).mean())
    if abusive.any():
        out["abusive_caught"] = float((score[abusive] >= nudge).mean())
        out["abusive_held"] = float((score[abusive] >= hold).mean())
    for head in HEADS[1:]:
        if head in probs:
            t = rows.targets[head][idx]
            known = t >= 0
            if known.sum() >= 20 and 0 < (t[known] == 1).sum() < known.sum():
                out[f"auc_{head}"] = auc(t[known] == 1, probs[head][known])
    words = np.array([len(t.split()) for t in (rows.texts[i] for i in idx)])
    for low, high in WORD_BUCKETS:
        sel = civil & (words >= low) & (words <= high)
        if sel.sum() >= 20:
            out[f"civil_nudged_{low}_{high}w"] = float((score[sel] >= nudge).mean())
            out[f"civil_held_{low}_{high}w"] = float((score[sel] >= hold).mean())
    return out


def breakdown(rows: Rows, idx: NDArray[np.int64], probs: dict[str, NDArray[np.float64]],
              lines: dict[str, float], views: tuple[str, ...], source: str) -> dict[str, dict[str, Any]]:
    """Figures for the source as a whole and for each of its languages with enough rows."""
    out = {source: figures(rows, idx, probs, lines, views)}
    langs = rows.langs[idx]
    if len(np.unique(langs)) > 1:
        for lang in np.unique(langs):
            sel = langs == lang
            labelled = np.isin(rows.labels[idx][sel], ["abusive", "civil"]).sum()
            if labelled >= MIN_ROWS:
                out[f"{source}/{lang}"] = figures(rows, idx[sel], {k: v[sel] for k, v in probs.items()},
                                                  lines, views)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", default="ngram,use3")
    parser.add_argument("--heads", default=",".join(HEADS))
    parser.add_argument("--cross", action="store_true")
    parser.add_argument("--in-domain", action="store_true")
    parser.add_argument("--only", nargs="*", help="left-out sources to evaluate (default: all public ones)")
    parser.add_argument("--save", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    model = ShippedModel.load()
    lines = dict(model.metadata["lines"])
    views = tuple(args.views.split(","))
    heads = tuple(args.heads.split(","))
    coef = stacker_of(model, views)
    rows = load_rows()
    print(f"# {len(rows)} rows from {len(np.unique(rows.sources))} sources; lines {lines}", file=sys.stderr)
    features = load_features(rows, views)
    results: dict[str, dict[str, Any]] = {"in_domain": {}, "cross": {}, "lines": lines}
    if args.save and args.save.exists():
        results.update(json.loads(args.save.read_text()))
    if args.in_domain:
        test_idx = np.flatnonzero(rows.test)
        probs = predict(features, rows, ~rows.test, test_idx, views, heads, coef)
        for source in np.unique(rows.sources):
            sel = rows.sources[test_idx] == source
            part = breakdown(rows, test_idx[sel], {k: v[sel] for k, v in probs.items()}, lines, views, str(source))
            results["in_domain"].update(part)
            print(f"in  {source:20} " + _fmt(part[str(source)]), flush=True)
        _save(args.save, results)
    if args.cross:
        public = [s for s in np.unique(rows.sources) if not s.startswith("written_")]
        for source in args.only or public:
            out = rows.sources == source
            idx = np.flatnonzero(out)
            t0 = time.monotonic()
            probs = predict(features, rows, ~out, idx, views, heads, coef)
            part = breakdown(rows, idx, probs, lines, views, str(source))
            results["cross"].update(part)
            print(f"out {source:20} " + _fmt(part[str(source)]) + f" ({time.monotonic() - t0:.0f} s)", flush=True)
            _save(args.save, results)


def _save(path: Path | None, results: dict[str, Any]) -> None:
    if path:
        path.write_text(json.dumps(results, indent=1))


def _fmt(r: dict[str, Any]) -> str:
    def g(key: str) -> str:
        value = r.get(key)
        return "  -  " if value is None or math.isnan(value) else f"{value:.3f}"

    return (f"n={r['n']:6d} auc={g('auc')} civil nudged={g('civil_nudged')} held={g('civil_held')} "
            f"abusive caught={g('abusive_caught')} held={g('abusive_held')}")


if __name__ == "__main__":
    main()
