"""The labelled rows the classifier is trained and judged on, with their features, cached.

Rows come from the public sets (tools/toxicity/corpora, built into
~/.cache/rostra-train/data/) and from the comments we wrote ourselves where no public
set exists (tools/toxicity/written/). Every row gets a fixed in-domain split (20 % test,
by a hash of its id), so in-domain figures never see their test rows in training.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpora import CACHE, CLASSES, DATA_DIR  # noqa: E402  (after the path above)
from embed_cache import VectorStore  # noqa: E402

WRITTEN_DIR = HERE / "written"
FEATURE_DIR = CACHE / "features"
TEST_SHARE = 0.2
HEADS = ("abusive", *CLASSES)  # abusive first: the score the policy's lines read


@dataclass(slots=True)
class Rows:
    """Column view of the labelled rows (parallel lists/arrays, one entry a row)."""

    ids: list[str]
    texts: list[str]
    langs: NDArray[np.str_]
    sources: NDArray[np.str_]
    labels: NDArray[np.str_]  # civil / abusive / profanity / spam
    # targets[h] per head: 1, 0, or -1 where the row says nothing about that head
    targets: dict[str, NDArray[np.int8]]
    test: NDArray[np.bool_]  # in the in-domain test split

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, mask: NDArray[np.bool_]) -> Rows:
        idx = np.flatnonzero(mask)
        return Rows(
            ids=[self.ids[i] for i in idx],
            texts=[self.texts[i] for i in idx],
            langs=self.langs[idx],
            sources=self.sources[idx],
            labels=self.labels[idx],
            targets={h: t[idx] for h, t in self.targets.items()},
            test=self.test[idx],
        )


def _in_test(row_id: str) -> bool:
    digest = hashlib.sha1(row_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < TEST_SHARE


def _target(label: str, classes: dict[str, int | None], head: str) -> int:
    if head == "abusive":
        return {"abusive": 1, "civil": 0, "profanity": 0, "spam": 0}[label]
    value = classes.get(head)
    if value is not None:
        return int(value)
    if label == "civil":
        return 0
    if head == "spam" and label in ("abusive", "profanity"):
        return 0
    if head in ("threat", "identity_hate", "insult") and label in ("profanity", "spam"):
        return 0
    if head == "profanity" and label == "spam":
        return 0
    return -1


def iter_files(sources: Sequence[str] | None = None) -> Iterable[Path]:
    files = sorted(DATA_DIR.glob("*.jsonl")) + sorted(WRITTEN_DIR.glob("*.jsonl"))
    for path in files:
        if sources and path.stem not in sources and f"written_{path.stem}" not in sources:
            continue
        yield path


def load_rows(sources: Sequence[str] | None = None, exclude: Iterable[str] = ()) -> Rows:
    """Every labelled row (or those of the named sources), each text once per source."""
    skip = set(exclude)
    ids, texts, langs, srcs, labels, test = [], [], [], [], [], []
    targets: dict[str, list[int]] = {h: [] for h in HEADS}
    for path in iter_files(sources):
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                row = json.loads(line)
                source = row.get("source") or f"written_{path.stem}"
                if source in skip:
                    continue
                row_id = row["id"] if ":" in row["id"] else f"{source}:{row['id']}"
                ids.append(row_id)
                texts.append(row["text"])
                langs.append(row["lang"])
                srcs.append(source)
                labels.append(row["label"])
                test.append(_in_test(row_id))
                for head in HEADS:
                    targets[head].append(_target(row["label"], row.get("classes") or {}, head))
    return Rows(
        ids=ids,
        texts=texts,
        langs=np.array(langs),
        sources=np.array(srcs),
        labels=np.array(labels),
        targets={h: np.array(v, dtype=np.int8) for h, v in targets.items()},
        test=np.array(test, dtype=bool),
    )


def embeddings(rows: Rows, encoder: str) -> NDArray[np.float32]:
    """The cached embeddings of the rows' texts (run embed_cache.py first)."""
    return VectorStore(encoder).get(rows.texts)


def ngram_matrix(rows: Rows, bits: int | None = None):  # -> scipy.sparse.csr_matrix
    """The rows' hashed n-gram vectors as a CSR matrix, featurised once and cached."""
    from scipy.sparse import csr_matrix, load_npz, save_npz

    from rostra.moderation.toxicity.ngrams import DEFAULT_BITS, featurize

    bits = bits or DEFAULT_BITS
    FEATURE_DIR.mkdir(parents=True, exist_ok=True)
    version = _featurizer_version()
    cache_keys = FEATURE_DIR / f"ngrams-{bits}-{version}.keys.npy"
    cache_matrix = FEATURE_DIR / f"ngrams-{bits}-{version}.npz"
    index: dict[bytes, int] = {}
    matrix = None
    if cache_keys.exists() and cache_matrix.exists():
        keys = np.load(cache_keys)
        matrix = load_npz(cache_matrix).tocsr()
        index = {bytes(k): i for i, k in enumerate(keys)}
    # Keyed by the whole text (the embeddings' key reads only the first 1,000 characters).
    missing = list({full_key(t): t for t in rows.texts if full_key(t) not in index}.values())
    if missing:
        feats = [featurize(t, bits) for t in missing]
        ptr = np.cumsum([0] + [len(f.index) for f in feats])
        new = csr_matrix(
            (np.concatenate([f.value for f in feats]), np.concatenate([f.index for f in feats]), ptr),
            shape=(len(missing), 2**bits),
        )
        from scipy.sparse import vstack

        matrix = new if matrix is None else vstack([matrix, new]).tocsr()
        start = len(index)
        for i, t in enumerate(missing):
            index[full_key(t)] = start + i
        keys = np.array([np.frombuffer(k, dtype=np.uint8) for k in sorted(index, key=index.__getitem__)])
        np.save(cache_keys, keys)
        save_npz(cache_matrix, matrix)
    assert matrix is not None
    return matrix[[index[full_key(t)] for t in rows.texts]]


def full_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


def _featurizer_version() -> str:
    """A digest of the featuriser's source: the cache is rebuilt whenever it changes."""
    from rostra.moderation.toxicity import ngrams

    return hashlib.sha1(Path(ngrams.__file__).read_bytes()).hexdigest()[:10]
