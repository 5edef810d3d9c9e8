"""Emails and pages rendered from templates/, in the reader's language.

Each email is three templates (``<name>.subject.txt``, ``<name>.txt``, ``<name>.html``);
words come from the catalog ``templates/i18n/<lang>.json``, English when there is none.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from rostra.core.thread_keys import http_url

TEMPLATES = Path(__file__).parent / "templates"
FALLBACK = "en"
LANGUAGE = re.compile(r"^[a-z]{2,8}$")
# Languages written right to left: their HTML says dir="rtl" (text parts need nothing).
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    # The language it is written in: the one asked for, or English where it has no
    # catalog (what Content-Language must say).
    language: str | None = None


def languages() -> list[str]:
    """The languages that have a catalog."""
    return sorted(p.stem for p in (TEMPLATES / "i18n").glob("*.json"))


def primary_language(tag: str | None) -> str | None:
    """'de-AT' -> 'de'; None for anything that is not a language tag."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if LANGUAGE.match(primary) else None


def site_language_of(wanted: Any) -> str:
    """The catalog for a site's first language (its settings' ``languages``, which may
    be regional: pt-BR reads Portuguese), else English: what its DSA emails and pages
    speak."""
    first = wanted[0] if isinstance(wanted, (list, tuple)) and wanted else None
    primary = primary_language(first) if isinstance(first, str) else None
    return primary if primary in languages() else FALLBACK


def choose_language(requested: str | None, accept_language: str | None) -> str:
    """The language to store for a subscriber: the one asked for, else the first of the
    browser's Accept-Language that has a catalog, else English."""
    asked = primary_language(requested)
    if asked:
        return asked
    known = set(languages())
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = primary_language(tag)
        if lang in known and quality > 0:
            ranked.append((-quality, index, lang))
    return min(ranked)[2] if ranked else FALLBACK


@lru_cache(maxsize=32)
def catalog(language: str) -> dict[str, str]:
    """The words of ``language``, with English filling any gap, and ``dir``: the
    direction of the language the words are in (English where there is no catalog)."""
    base: dict[str, str] = json.loads((TEMPLATES / "i18n" / f"{FALLBACK}.json").read_text("utf-8"))
    lang = primary_language(language) or FALLBACK
    path = TEMPLATES / "i18n" / f"{lang}.json"
    if lang != FALLBACK and path.exists():
        base.update(json.loads(path.read_text("utf-8")))
    base["dir"] = "rtl" if base["lang"] in RIGHT_TO_LEFT else "ltr"
    return base


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    # Links are made only from http(s) URLs (a thread's link may come from an import).
    env.filters["http_url"] = http_url
    return env


def render_email(name: str, language: str, **context: Any) -> RenderedEmail:
    env = _env()
    context["t"] = catalog(language)
    subject = env.get_template(f"email/{name}.subject.txt").render(context)
    return RenderedEmail(
        subject=" ".join(subject.split())[:250],
        text=env.get_template(f"email/{name}.txt").render(context).strip() + "\n",
        html=env.get_template(f"email/{name}.html").render(context),
        language=context["t"]["lang"],
    )


def render_page(name: str, language: str, **context: Any) -> str:
    context["t"] = catalog(language)
    return _env().get_template(f"pages/{name}.html").render(context)
