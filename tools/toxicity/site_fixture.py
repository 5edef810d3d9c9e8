"""Write the site-learning test fixture: real comments as the site head sees them.

Run: python tools/toxicity/site_fixture.py [--source ru_vk_toxicity] [--abusive 300] [--civil 500] [--out PATH]
After train_real.py (it keeps each row's out-of-fold abusive logit). The fixture holds,
for a sample of one public set's comments, what the site head needs and nothing of the
texts: the use3 embedding (float16), the abusive logit of heads that never saw that set,
and the set's own label; plus the default nudge and hold lines. The test in
tests/moderation/test_toxicity_site_head.py feeds its labels as moderator decisions.
The default source, comments under news posts on VK (alla-g/toxicity-detection-thesis),
is MIT-licensed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from realdata import embeddings, load_rows
from train_real import OOF_PATH

from rostra.moderation.toxicity.heads import ShippedModel

DEFAULT_OUT = (Path(__file__).resolve().parents[2] / "tests" / "moderation" / "data"
               / "site_learning_ru_vk.npz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="ru_vk_toxicity")
    parser.add_argument("--abusive", type=int, default=300)
    parser.add_argument("--civil", type=int, default=500)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    rows = load_rows([args.source])
    keep = (rows.labels == "abusive") | (rows.labels == "civil")
    rows = rows.subset(keep)
    with np.load(OOF_PATH) as z:
        logit_of = dict(zip(z["ids"].tolist(), z["logit"].tolist(), strict=True))
    rng = np.random.default_rng(20261206)
    pick = []
    for label, count in (("abusive", args.abusive), ("civil", args.civil)):
        pool = np.flatnonzero(rows.labels == label)
        pick += rng.choice(pool, size=min(count, len(pool)), replace=False).tolist()
    rows = rows.subset(np.isin(np.arange(len(rows)), pick))
    lines = ShippedModel.load().metadata["lines"]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        embedding=embeddings(rows, "use3").astype(np.float16),
        logit=np.array([logit_of[i] for i in rows.ids], dtype=np.float32),
        abusive=rows.labels == "abusive",
        nudge_line=np.float32(lines["toxicity_nudge"]),
        hold_line=np.float32(lines["toxicity_hold"]),
        source=np.array(args.source),
    )
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} KB, {len(rows)} rows, "
          f"{int((rows.labels == 'abusive').sum())} abusive)")


if __name__ == "__main__":
    main()
