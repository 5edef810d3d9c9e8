"""Public, human-labelled comment sets for training and judging the toxicity classifier.

Each module in this package describes one source (`SOURCE`) and turns its files into
rows (`load`). The texts never enter the repository: `build.py` reads the files from a
local git copy of the source's repository (a path outside the checkout), at the commit
recorded here, and writes normalised JSON Lines under ~/.cache/rostra-train/data/.

A row:
    {"id": "germeval2018:train:17", "text": "...", "lang": "de", "source": "germeval2018",
     "domain": "tweets", "label": "civil" | "abusive" | "profanity" | "spam",
     "classes": {"threat": 0|1|null, "identity_hate": ..., "insult": ..., "profanity": ...,
                 "spam": ...},
     "original": "OFFENSE/INSULT"}

`label` is the coarse class every source can give: `abusive` is targeted abuse (a
threat, an attack on a group, an insult of a person, or a source's "offensive"/"hateful"
class where it does not separate swearing from insults), `profanity` is swearing at no
one where the source says so, `spam` is spam, `civil` is the source's clean class.
`classes` holds the finer labels where the source annotates them (1 or 0) and null
where it says nothing about that class.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CACHE = Path.home() / ".cache" / "rostra-train"
DATA_DIR = CACHE / "data"
# Where `fetch` (or `git clone --mirror`) puts repositories: owner+name/... holding a git dir.
MIRROR_ROOTS = (Path("/work/.mirror"), CACHE / "git")

LABELS = ("civil", "abusive", "profanity", "spam")
CLASSES = ("threat", "identity_hate", "insult", "profanity", "spam")


@dataclass(frozen=True, slots=True)
class Source:
    """Where one labelled set comes from and what may be done with it."""

    name: str  # short id, also the module name: "germeval2018"
    repo: str  # GitHub owner/name
    commit: str  # the commit the rows are read at (40 hex digits)
    files: tuple[str, ...]  # paths inside the repository that `load` reads
    licence: str  # SPDX id or the licence's words, with where it is stated
    languages: tuple[str, ...]  # ISO 639-1 codes
    domain: str  # news, tweets, forum, youtube, facebook, wikipedia, sms, ...
    description: str  # one or two sentences: what the texts are, who labelled them
    label_mapping: str  # how the source's labels map to ours
    notes: str = ""


@dataclass(slots=True)
class Row:
    id: str
    text: str
    lang: str
    label: str
    classes: dict[str, int | None] = field(default_factory=dict)
    original: str = ""

    def as_json(self, source: Source) -> dict[str, Any]:
        assert self.label in LABELS, self.label
        unknown = set(self.classes) - set(CLASSES)
        assert not unknown, unknown
        return {
            "id": f"{source.name}:{self.id}",
            "text": self.text,
            "lang": self.lang,
            "source": source.name,
            "domain": source.domain,
            "label": self.label,
            "classes": {c: self.classes.get(c) for c in CLASSES},
            "original": self.original,
        }


Reader = Callable[[str], bytes]  # path inside the repository -> the file's bytes


def git_dir_of(repo: str) -> Path:
    """The local bare git directory holding `repo` (owner/name)."""
    key = repo.replace("/", "+")
    for root in MIRROR_ROOTS:
        base = root / key
        if not base.exists():
            continue
        if (base / "HEAD").exists():
            return base
        for head in sorted(base.rglob("HEAD")):
            if (head.parent / "objects").is_dir():
                return head.parent
    raise FileNotFoundError(
        f"no local copy of {repo}: git clone --mirror https://github.com/{repo} "
        f"{CACHE / 'git' / key}"
    )


def reader_for(source: Source) -> Reader:
    git_dir = git_dir_of(source.repo)

    def read(path: str) -> bytes:
        return subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{source.commit}:{path}"],
            check=True,
            capture_output=True,
        ).stdout

    return read


LoadFn = Callable[[Reader], Iterator[Row]]
