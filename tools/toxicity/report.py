"""Markdown tables for docs/moderation.md from evaluate_real.py's saved figures.

Run: python tools/toxicity/report.py FIGURES.json
Prints the cross-domain and in-domain tables (per source and per language within a
source), per-class ROC AUC, and the share of civil comments nudged or held by length.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

HEADS = ("threat", "identity_hate", "insult", "profanity", "spam")


def f3(value: Any) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def pct(value: Any) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value * 100:.1f} %"


def main_table(part: dict[str, dict[str, Any]], views: tuple[str, ...], public_only: bool) -> list[str]:
    out = ["| set | n | abusive | ROC AUC | " + " | ".join(f"{v} alone" for v in views)
           + " | civil nudged | civil held | abusive nudged or held | abusive held |",
           "|---|---|---|---|" + "---|" * len(views) + "---|---|---|---|"]
    aucs = []
    for key in sorted(part, key=lambda k: (k.split("/")[0], "/" in k, k)):
        r = part[key]
        if public_only and key.startswith("written_"):
            continue
        if r.get("n", 0) == 0 or r.get("auc") is None or r["auc"] != r["auc"]:
            continue
        if "/" not in key:
            aucs.append(r["auc"])
        name = f"&nbsp;&nbsp;{key.split('/')[1]}" if "/" in key else f"`{key}`"
        out.append(f"| {name} | {r['n']:,} | {r.get('abusive', 0):,} | **{f3(r['auc'])}** | "
                   + " | ".join(f3(r.get(f"auc_{v}")) for v in views)
                   + f" | {pct(r.get('civil_nudged'))} | {pct(r.get('civil_held'))} | "
                     f"{pct(r.get('abusive_caught'))} | {pct(r.get('abusive_held'))} |")
    if aucs:
        out.append(f"| mean of sets | | | **{sum(aucs) / len(aucs):.3f}** |" + " |" * len(views) + " | | | |")
    return out


def class_table(part: dict[str, dict[str, Any]]) -> list[str]:
    out = ["| set | " + " | ".join(HEADS) + " |", "|---|" + "---|" * len(HEADS)]
    for key in sorted(part):
        r = part[key]
        if "/" in key or not any(f"auc_{h}" in r for h in HEADS):
            continue
        out.append(f"| `{key}` | " + " | ".join(f3(r.get(f"auc_{h}")) for h in HEADS) + " |")
    return out


def length_table(part: dict[str, dict[str, Any]]) -> list[str]:
    buckets = ("1_3w", "4_10w", "11_30w", "31_10000w")
    out = ["| set | " + " | ".join(f"{b.replace('_10000w', '+').replace('_', '–').replace('w', '')} words: nudged / held"
                                   for b in buckets) + " |",
           "|---|" + "---|" * len(buckets)]
    for key in sorted(part):
        r = part[key]
        if "/" in key or not any(f"civil_nudged_{b}" in r for b in buckets):
            continue
        out.append(f"| `{key}` | " + " | ".join(
            f"{pct(r.get(f'civil_nudged_{b}'))} / {pct(r.get(f'civil_held_{b}'))}" for b in buckets) + " |")
    return out


def main() -> None:
    data = json.loads(Path(sys.argv[1]).read_text())
    views = tuple(sys.argv[2].split(",")) if len(sys.argv) > 2 else ("ngram", "use3")
    print(f"Lines: {data.get('lines')}\n")
    for name, public in (("cross", True), ("in_domain", False)):
        if data.get(name):
            print(f"### {name}\n")
            print("\n".join(main_table(data[name], views, public)))
            print("\nPer class (ROC AUC where the set labels the class):\n")
            print("\n".join(class_table(data[name])))
            print("\nCivil comments by length:\n")
            print("\n".join(length_table(data[name])))
            print()


if __name__ == "__main__":
    main()
