"""Write the labelled seed set (seed.jsonl) from the hand-written phrases and template families.

Run: python tools/toxicity/build_seed.py
Each line: {"id", "text", "lang", "label" (toxic/spam/ok), "category", "group"}.
`group` keeps a comment together with its translations on one side of the split: the
hand-written lists are roughly parallel across languages (the i-th heated comment says
much the same in every language), and a multilingual encoder would otherwise meet the
held-out comment's translation in training.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from templates import FAMILIES

LANGUAGES = ("en", "de", "sk", "ru", "pl", "fr", "es", "uk")

# Heated disagreement and conspiracy talk are labelled ok on purpose: the shipped head
# must not hold a comment merely for being angry or wrong.
LABEL_OF_CATEGORY: dict[str, str] = {
    "civil": "ok",
    "heated": "ok",
    "conspiracy": "ok",
    "insult": "toxic",
    "slur": "toxic",
    "threat": "toxic",
    "identity_hate": "toxic",
    "spam": "spam",
}

SEED_PATH = HERE / "seed.jsonl"


def build() -> list[dict[str, str]]:
    """Return every seed row, hand-written first, in a stable order."""
    rows: list[dict[str, str]] = []
    for lang in LANGUAGES:
        phrases = importlib.import_module(f"phrases_{lang}").PHRASES
        for category, texts in phrases.items():
            for i, text in enumerate(texts):
                rows.append(_row(f"{lang}-{category}-{i}", text, lang, category, f"{category}-{i}"))
    for family in FAMILIES:
        # Families are translations of each other per category, like the hand-written lists.
        group = f"{family.category}-template"
        for i, text in enumerate(family.texts()):
            rows.append(_row(f"{family.lang}-{group}-{i}", text, family.lang, family.category, group))
    texts = [r["text"] for r in rows]
    duplicates = {t for t in texts if texts.count(t) > 1}
    if duplicates:
        raise SystemExit(f"duplicate seed texts: {sorted(duplicates)[:5]}")
    return rows


def _row(row_id: str, text: str, lang: str, category: str, group: str) -> dict[str, str]:
    return {
        "id": row_id,
        "text": text,
        "lang": lang,
        "label": LABEL_OF_CATEGORY[category],
        "category": category,
        "group": group,
    }


def main() -> None:
    rows = build()
    with SEED_PATH.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    by_label: dict[str, int] = {}
    for row in rows:
        by_label[row["label"]] = by_label.get(row["label"], 0) + 1
    print(f"wrote {len(rows)} rows to {SEED_PATH.name}: {by_label}")


if __name__ == "__main__":
    main()
