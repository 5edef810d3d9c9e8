"""What a site's moderators teach its head, measured on real sets.

Run: python tools/toxicity/learning_curve.py [--sources a,b] [--repeats 10] [--markdown]
After train_real.py (it keeps each row's out-of-fold abusive logit: the score of heads
that never saw that row's source, as a new site would get). Each public set plays a
site whose moderators decide as the set's labels say. Two ways of meeting comments:
`random` (moderators judge comments as they come) and `queue` (they judge only what the
shipped model sent them: comments at or over the nudge line, the way a real queue
fills). After 0, 20, 50 and 200 decisions, on the set's other comments: ROC AUC, the
share of abusive comments at or over the hold line (recall) and the share of civil ones
(false holds), against the shipped model alone. Calibration must survive: recall at the
hold line stays within 10 points of the shipped model's unless the site's moderators
really approve such comments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realdata import embeddings, load_rows
from train_real import OOF_PATH

from rostra.moderation.toxicity.heads import ShippedModel, sigmoid
from rostra.moderation.toxicity.metrics import roc_auc
from rostra.moderation.toxicity.site_head import SiteHead

CHECKPOINTS = (0, 20, 50, 200)
DEFAULT_SOURCES = ("foxnews", "germeval2018", "told_br", "offenseval_tr", "ban_pl", "mpold_ar",
                   "ru_vk_toxicity", "stormfront", "jigsaw_multilingual")


def simulate(x: NDArray[np.float64], logits: NDArray[np.float64], bad: NDArray[np.bool_],
             basis: object, lines: dict[str, float], how: str, repeats: int) -> dict[int, list[float]]:
    """Mean [auc, recall, false hold, shipped auc, shipped recall, shipped false hold] per checkpoint."""
    hold, nudge = lines["toxicity_hold"], lines["toxicity_nudge"]
    shipped = sigmoid(logits)
    out: dict[int, list[list[float]]] = {n: [] for n in CHECKPOINTS}
    for seed in range(repeats):
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(x))
        if how == "queue":
            order = order[shipped[order] >= nudge]
        test = np.setdiff1d(np.arange(len(x)), order[: max(CHECKPOINTS)])
        head = SiteHead.new(basis)  # type: ignore[arg-type]
        taught = 0
        for n in CHECKPOINTS:
            while taught < min(n, len(order)):
                i = order[taught]
                head.update(x[i], bool(bad[i]), logits[i])
                taught += 1
            site = sigmoid(logits[test] + head.correction(x[test]))
            y = bad[test]
            out[n].append([roc_auc(y, site), float((site[y] >= hold).mean()), float((site[~y] >= hold).mean()),
                           roc_auc(y, shipped[test]), float((shipped[test][y] >= hold).mean()),
                           float((shipped[test][~y] >= hold).mean()), float(taught)])
    return {n: np.mean(v, axis=0).tolist() for n, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default=",".join(DEFAULT_SOURCES))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    model = ShippedModel.load()
    lines = model.metadata["lines"]
    with np.load(OOF_PATH) as z:
        logit_of = dict(zip(z["ids"].tolist(), z["logit"].tolist(), strict=True))
    print("| set | meets | decisions | AUC site / shipped | recall at hold site / shipped | "
          "civil held site / shipped |")
    print("|---|---|---|---|---|---|")
    for source in args.sources.split(","):
        rows = load_rows([source])
        rows = rows.subset((rows.labels == "abusive") | (rows.labels == "civil"))
        x = embeddings(rows, "use3").astype(np.float64)
        logits = np.array([logit_of[i] for i in rows.ids])
        bad = rows.labels == "abusive"
        for how in ("random", "queue"):
            result = simulate(x, logits, bad, model.use3, lines, how, args.repeats)
            for n in CHECKPOINTS:
                auc, rec, fp, s_auc, s_rec, s_fp, taught = result[n]
                print(f"| {source} | {how} | {taught:.0f} | {auc:.3f} / {s_auc:.3f} | "
                      f"{rec:.3f} / {s_rec:.3f} | {fp:.3f} / {s_fp:.3f} |", flush=True)


if __name__ == "__main__":
    main()
