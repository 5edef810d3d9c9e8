"""The widget as served: its files with build-time values filled in, slimmed,
hashed into a version and gzipped once per process.

There is no npm toolchain: the sources under ``js/`` are plain ES modules that
run as written, and this module only fills in a few placeholders and strips
comments and indentation.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
SOURCES = HERE / "js"
INLINE = HERE / "inline"  # inline feedback, written separately; slimmed like the rest

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


# Characters and words after which a "/" begins a regular expression, not a division.
_BEFORE_REGEX = set("(,=:[!&|?{};+-*%<>~^")
_WORDS_BEFORE_REGEX = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw",
                       "instanceof", "yield", "await"}


def split_source(source: str) -> list[tuple[bool, str]]:
    """Split JavaScript into (is_code, text) pieces with its comments left out.

    Literals (strings, template text, regular expressions) come out as pieces
    of their own, verbatim, so whatever slims the code never touches them. A
    comment becomes a space, or a line break where it held one (automatic
    semicolon insertion sees what the author wrote).
    """
    pieces: list[tuple[bool, str]] = []
    code: list[str] = []
    braces: list[int] = []  # per open ${ of a template: the { depth inside it
    i, n = 0, len(source)
    last = ""  # the last significant code character
    word = ""  # the identifier or keyword that ends at `last`, if any

    def flush() -> None:
        if code:
            pieces.append((True, "".join(code)))
            code.clear()

    def literal(end: int) -> None:
        flush()
        pieces.append((False, source[i:end]))

    def template_text(start: int) -> int:
        """Index just past the template text from `start` (after ` or }): at ` or ${."""
        j = start
        while j < n:
            ch = source[j]
            if ch == "\\":
                j += 2
            elif ch == "`":
                return j + 1
            elif ch == "$" and source.startswith("${", j):
                return j + 2
            else:
                j += 1
        raise ValueError("unterminated template literal")

    while i < n:
        ch = source[i]
        if ch in " \t\r\n":
            code.append(ch)
            i += 1
        elif source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise ValueError("unterminated comment")
            code.append("\n" if "\n" in source[i:end] else " ")
            i = end + 2
        elif ch in "'\"":
            j = i + 1
            while j < n and source[j] != ch:
                if source[j] == "\n":
                    raise ValueError("unterminated string")
                j += 2 if source[j] == "\\" else 1
            if j >= n:
                raise ValueError("unterminated string")
            literal(j + 1)
            i, last, word = j + 1, ch, ""
        elif ch == "`" or (ch == "}" and braces and braces[-1] == 0):
            if ch == "}":
                braces.pop()
            end = template_text(i + 1)
            literal(end)
            if source[end - 1] == "{":
                braces.append(0)
            i, last, word = end, "`" if source[end - 1] == "`" else "{", ""
        elif ch == "/" and (last == "" or word in _WORDS_BEFORE_REGEX
                            or (last in _BEFORE_REGEX and not word and source[i - 2:i] not in ("++", "--"))):
            j, in_class = i + 1, False
            while j < n and (in_class or source[j] != "/"):
                if source[j] == "\n":
                    raise ValueError("unterminated regular expression")
                if source[j] == "\\":
                    j += 1
                elif source[j] == "[":
                    in_class = True
                elif source[j] == "]":
                    in_class = False
                j += 1
            j += 1
            while j < n and (source[j].isalnum() or source[j] in "_$"):
                j += 1  # flags
            literal(j)
            i, last, word = j, "/", ""
        else:
            if ch == "{" and braces:
                braces[-1] += 1
            elif ch == "}" and braces:
                braces[-1] -= 1
            if ch.isalnum() or ch in "_$":
                word = word + ch if (last.isalnum() or last in "_$") and i > 0 and source[i - 1] == last else ch
            else:
                word = ""
            code.append(ch)
            last = ch
            i += 1
    flush()
    return pieces


def slim(source: str) -> str:
    """Drop comments, blank lines, indentation and runs of spaces in code.

    Line breaks in code stay so automatic semicolon insertion sees what the
    author wrote; literals (template text included) stay exactly as written.
    """
    out: list[str] = []
    for is_code, text in split_source(source):
        if is_code:
            text = re.sub(r"[ \t]+", " ", text)
            text = re.sub(r" ?\n[\s]*", "\n", text)  # also drops the blank lines that follow
        out.append(text)
    return "".join(out).strip() + "\n"


def slimmed(text: str, suffix: str) -> str:
    """JavaScript slimmed; anything else (CSS, JSON) as written: `//` means no comment there."""
    return slim(text) if suffix in (".js", ".mjs") else text


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
        texts[path.relative_to(SOURCES).as_posix()] = (slimmed(text, path.suffix), path.suffix)
    if INLINE.is_dir():
        for path in sorted(INLINE.rglob("*")):
            if path.is_file() and path.suffix in MEDIA_TYPES:
                name = "inline/" + path.relative_to(INLINE).as_posix()
                texts[name] = (slimmed(path.read_text(encoding="utf-8"), path.suffix), path.suffix)
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
