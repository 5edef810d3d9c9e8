"""Comment text: a Markdown subset rendered to HTML that is safe to put in any page."""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "del", "s", "a", "code", "pre", "blockquote", "ul", "ol", "li",
}
ALLOWED_TAGS_WITH_IMAGES = ALLOWED_TAGS | {"img"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
LINK_REL = "nofollow ugc noopener"


@lru_cache(maxsize=2)
def _parser(images: bool) -> MarkdownIt:
    # "zero" preset plus exactly the rules we allow; html=False means raw HTML is text.
    md = MarkdownIt("zero", {"html": False, "linkify": True, "breaks": True, "typographer": False})
    md.enable(
        ["emphasis", "link", "autolink", "backticks", "code", "fence", "blockquote", "list",
         "newline", "escape", "entity", "linkify", "strikethrough"]
    )
    if images:
        md.enable("image")
    md.linkify = _Linkify()
    md.validateLink = _safe_link  # type: ignore[method-assign]
    return md


class _Linkify(LinkifyIt):  # type: ignore[misc]  # linkify-it-py is untyped
    """linkify-it with a cheaper first look. Its own pretest runs a large pattern over
    every text, which cost a third of the rendering. A text can hold a link only if it
    has a '//' (http://, ftp://, //host), an '@' (an address, mailto:) or a dot before a
    letter (a domain)."""

    def pretest(self, text: str) -> bool:
        return bool(_MAYBE_LINK.search(text)) and bool(super().pretest(text))


_MAYBE_LINK = re.compile(r"//|@|\.[^\W\d_]")


def _safe_link(url: str) -> bool:
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://", "mailto:")) or ":" not in lowered.split("/")[0]


def _cleaner(tags: set[str]) -> nh3.Cleaner:
    # Built once: nh3.clean() converts its settings for every call, which cost more
    # than cleaning a comment.
    return nh3.Cleaner(
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
        strip_comments=True,
    )


_CLEAN = _cleaner(ALLOWED_TAGS)
_CLEAN_WITH_IMAGES = _cleaner(ALLOWED_TAGS_WITH_IMAGES)


def render(text: str, *, images: bool = False) -> str:
    """Markdown subset -> sanitised HTML. Links get rel="nofollow ugc noopener"."""
    plain = _plain_html(text)
    if plain is not None:
        return plain
    html = _parser(images).render(text)
    return (_CLEAN_WITH_IMAGES if images else _CLEAN).clean(html).strip()


# What keeps a text from being plain paragraphs: a character an inline rule starts at
# (escape, code, emphasis, strikethrough, link, image, autolink), an entity, what
# linkify-it could take for a link (_MAYBE_LINK), whitespace other than spaces and line
# breaks, control characters, surrogates and non-characters (the parser and the cleaner
# have rules of their own for those), and a line a block could start (list, quote,
# indented code; fences start with ` or ~).
_NOT_PLAIN = re.compile(
    r"[\\`*_~\[\]<\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
    r"|[^\S \n]|&[#A-Za-z0-9]|//|@|\.[^\W\d_]|^ *(?:[-+>]|\d+[.)])|^ {4}",
    re.MULTILINE,
)


# Emphasis the plain path writes itself: *a*, **a**, _a_ or __a__ opening after a space or
# a line's start, closing before a space, a line's end or . , ; : ! ? ), its text on one
# line, starting and ending with a letter or digit and holding no * or _. Such a
# delimiter can only open (or only close), so each pairs with its neighbour as the
# parser pairs them; any other * or _ is left to the parser.
_EMPHASIS = re.compile(r"(?<![^ \n])(\*\*?|__?)([^\W_](?:[^*_\n]*[^\W_])?)\1(?=[ \n.,;:!?)]|\Z)")
# Placeholders for the tags while the text is escaped (controls: never in a plain text).
_TAGS = {"\x01": "<em>", "\x02": "</em>", "\x03": "<strong>", "\x04": "</strong>"}


def _mark(match: re.Match[str]) -> str:
    if len(match[1]) == 1:
        return f"\x01{match[2]}\x02"
    return f"\x03{match[2]}\x04"


def _plain_html(text: str) -> str | None:
    """render(text) without the parser and the cleaner, for a text that is only paragraphs
    of plain text and simple emphasis (most comments); None for any other. Lines become
    "<br>" and blank lines paragraphs, as the parser makes them (breaks=True); "&" and
    ">" escaped as the cleaner writes them (it writes the parser's "&quot;" back as a
    quote). tests/unit/test_markup_plain.py holds it to the full path."""
    emphasis = ("*" in text or "_" in text) and _EMPHASIS.search(text) is not None
    if _NOT_PLAIN.search(_EMPHASIS.sub(r"\2", text) if emphasis else text):
        return None
    if emphasis:
        text = _EMPHASIS.sub(_mark, text)
    paragraphs, lines = [], []
    for line in text.replace("&", "&amp;").replace(">", "&gt;").split("\n"):
        line = line.strip(" ")
        if line:
            lines.append(line)
        elif lines:
            paragraphs.append("<p>" + "<br>\n".join(lines) + "</p>")
            lines = []
    if lines:
        paragraphs.append("<p>" + "<br>\n".join(lines) + "</p>")
    html = "\n".join(paragraphs)
    if emphasis:
        for mark, tag in _TAGS.items():
            html = html.replace(mark, tag)
    return html


def sanitise_html(html: str) -> str:
    """Sanitise HTML from an import (WordPress, Disqus) with the same rules as ours."""
    return _CLEAN.clean(html).strip()
