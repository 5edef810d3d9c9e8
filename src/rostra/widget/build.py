"""The widget as served: its files with build-time values filled in, slimmed,
hashed into a version and gzipped once per process.

There is no npm toolchain: the sources under ``js/`` are plain ES modules that
run as written, and this module only fills in a few placeholders and strips
comments and indentation.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
SOURCES = HERE / "js"
INLINE = HERE / "inline"  # inline feedback, written separately; served as is

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}

# Files loaded before the first comment renders for an English reader: what
# the 25 KB budget covers (other languages add their one strings file).
FIRST_RENDER = ("rostra.js", "api.js", "storage.js", "i18n.js", "i18n/en.js", "styles.js", "theme.js", "render.js", "form.js",
                "live.js")


@dataclass(frozen=True, slots=True)
class Asset:
    """One file ready to send: plain and gzipped bodies and a strong ETag."""

    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


@dataclass(frozen=True, slots=True)
class Bundle:
    version: str
    files: dict[str, Asset]  # by path under /widget/<version>/
    loader: Asset  # /embed.js


def slim(source: str) -> str:
    """Drop comment lines, blank lines and indentation; keep line breaks.

    Line breaks stay so automatic semicolon insertion sees what the author
    wrote; our sources keep no template literal whose lines begin with ``//``.
    """
    out: list[str] = []
    in_doc = False
    for raw in source.splitlines():
        line = raw.strip()
        if in_doc:
            in_doc = not line.endswith("*/")
            continue
        if line.startswith("/**") or line.startswith("/*"):
            in_doc = not line.endswith("*/")
            continue
        if not line or line.startswith("//"):
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _asset(text: str, suffix: str) -> Asset:
    body = text.encode()
    return Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
        etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
    )


def languages() -> list[str]:
    """The languages the widget speaks: one file each in js/i18n/."""
    return sorted(p.stem for p in (SOURCES / "i18n").glob("*.js"))


@cache
def bundle() -> Bundle:
    """Build every file once; the version is a hash of all of them."""
    values = {
        "__ROSTRA_LANGS__": ",".join(languages()),
        "__ROSTRA_INLINE__": "1" if (INLINE / "inline.js").is_file() else "0",
    }
    texts: dict[str, tuple[str, str]] = {}
    for path in sorted(SOURCES.rglob("*")):
        if not path.is_file() or path.name == "embed.js" or path.suffix not in MEDIA_TYPES:
            continue
        text = path.read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace(key, value)
        texts[path.relative_to(SOURCES).as_posix()] = (slim(text), path.suffix)
    if INLINE.is_dir():
        for path in sorted(INLINE.rglob("*")):
            if path.is_file() and path.suffix in MEDIA_TYPES:
                name = "inline/" + path.relative_to(INLINE).as_posix()
                texts[name] = (path.read_text(encoding="utf-8"), path.suffix)
    digest = hashlib.sha256()
    for name, (text, _) in texts.items():
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    version = digest.hexdigest()[:12]
    files = {name: _asset(text, suffix) for name, (text, suffix) in texts.items()}
    loader_text = (SOURCES / "embed.js").read_text(encoding="utf-8").replace("__ROSTRA_VERSION__", version)
    return Bundle(version=version, files=files, loader=_asset(slim(loader_text), ".js"))


def first_render_size(gzipped: bool = True) -> int:
    """Bytes a page transfers before the first comment renders (English reader)."""
    b = bundle()
    assets = [b.loader, *(b.files[name] for name in FIRST_RENDER)]
    return sum(len(a.gzipped if gzipped else a.body) for a in assets)
