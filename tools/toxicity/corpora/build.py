"""Turn each public source into normalised JSON Lines under ~/.cache/rostra-train/data/.

Run: python tools/toxicity/corpora/build.py [NAME ...]   (all sources when none is named)
Prints rows per language and label for each source, so SOURCES.md can say what was used.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import pkgutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import corpora
from corpora import DATA_DIR, Source, reader_for


def source_modules() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules(corpora.__path__) if not m.name.startswith("_") and m.name not in ("build", "sources_md")
    )


def build(name: str) -> None:
    module = importlib.import_module(f"corpora.{name}")
    source: Source = module.SOURCE
    read = reader_for(source)
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    seen: set[str] = set()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    out = DATA_DIR / f"{source.name}.jsonl"
    with out.open("w", encoding="utf-8") as sink:
        for row in module.load(read):
            text = row.text.strip()
            if not text or text in seen:  # sources repeat texts across splits
                continue
            seen.add(text)
            row.text = text
            sink.write(json.dumps(row.as_json(source), ensure_ascii=False) + "\n")
            counts[(row.lang, row.label)] += 1
    total = sum(counts.values())
    detail = ", ".join(f"{lang}/{label} {n}" for (lang, label), n in sorted(counts.items()))
    print(f"{source.name}: {total} rows -> {out} ({detail})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    for name in args.names or source_modules():
        build(name)


if __name__ == "__main__":
    main()
