"""How the server serves the widget: a small loader, immutable versioned files."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from typing import Any

import httpx

from rostra.widget.build import SOURCES, bundle, first_render_size, languages

BUDGET_GZIPPED = 25 * 1024


class Elements(HTMLParser):
    """Every start tag of a page with its attributes, in order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def all(self, tag: str | None = None, attr: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.found if (tag is None or t == tag) and (attr is None or attr in a)]


def keys(lang: str) -> set[str]:
    text = (SOURCES / "i18n" / f"{lang}.js").read_text(encoding="utf-8")
    return set(re.findall(r"^\s+(\w+): ", text, re.MULTILINE))


def late_english_keys() -> set[str]:
    """Strings added after the first-render budget was spent: their English is in the
    module that uses them (const EN in account.js), every other language has them."""
    text = (SOURCES / "account.js").read_text(encoding="utf-8")
    block = re.search(r"^const EN = \{\n(.*?)^\};", text, re.MULTILINE | re.DOTALL)
    assert block is not None
    return set(re.findall(r"^\s+(\w+): ", block.group(1), re.MULTILINE))


def test_it_ships_every_required_language_with_every_key() -> None:
    assert {"en", "de", "fr", "es", "ru", "sk", "uk", "ko"} <= set(languages())
    late = late_english_keys()
    assert late and not late & keys("en")
    for lang in languages():
        assert keys(lang) == keys("en") | (late if lang != "en" else set()), lang


def placeholders(lang: str) -> dict[str, list[str]]:
    """Each key's {placeholders}: a plain string's, or a plural message's "other" form
    (Arabic and Hebrew write "one", "two" out, without the number)."""
    text = (SOURCES / "i18n" / f"{lang}.js").read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    for key, value in re.findall(r'^\s+(\w+): (".*"|\{.*\}),$', text, re.MULTILINE):
        if value.startswith("{"):
            value = re.search(r'\bother: ("(?:[^"\\]|\\.)*")', value).group(1)  # type: ignore[union-attr]
        found[key] = sorted(re.findall(r"\{(\w+)\}", value))
    return found


def test_every_language_keeps_the_english_placeholders() -> None:
    english = placeholders("en")
    assert english["scoreNow"] == ["n"] and english["comments"] == ["n"]
    for lang in languages():
        own = placeholders(lang)
        wrong = {k: own.get(k) for k, names in english.items() if own.get(k) != names}
        assert not wrong, f"js/i18n/{lang}.js: {wrong}"


def test_it_stays_within_the_size_budget() -> None:
    assert first_render_size(gzipped=True) < BUDGET_GZIPPED


def test_it_serves_a_short_lived_loader_that_names_the_version(live_server: Any) -> None:
    response = httpx.get(f"{live_server.url}/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "public, max-age=300"
    assert f"widget/{bundle().version}/rostra.js" in response.text


def test_it_serves_versioned_files_immutable_and_gzipped(live_server: Any) -> None:
    url = f"{live_server.url}/widget/{bundle().version}/rostra.js"
    response = httpx.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["content-encoding"] == "gzip"
    assert "customElements.define" in response.text
    again = httpx.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    plain = httpx.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert gzip.decompress(bundle().files["rostra.js"].gzipped) == plain.content


def test_it_answers_an_old_version_with_the_current_file_briefly_cached(live_server: Any) -> None:
    response = httpx.get(f"{live_server.url}/widget/000000000000/rostra.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=60"
    assert httpx.get(f"{live_server.url}/widget/{bundle().version}/nope.js").status_code == 404


def test_it_serves_the_demo_article_and_index(live_server: Any) -> None:
    article = Elements(httpx.get(f"{live_server.url}/demo/").text)
    [element] = article.all("rostra-comments")
    assert element["site"] == "demo"
    assert element["thread"] == "/demo/2026/11/riverside-bridge-reopens"
    assert element["title"] == "Riverside bridge reopens after two years of repairs"
    assert [s["src"] for s in article.all("script", "src")] == ["/embed.js"]
    index = Elements(httpx.get(f"{live_server.url}/demo/index.html").text)
    counts = [el["data-rostra-count"] for el in index.all(attr="data-rostra-count")]
    assert "/demo/2026/11/riverside-bridge-reopens" in counts
    for path in counts:
        assert httpx.get(f"{live_server.url}{path}").status_code == 200


# Codes only the admin UI or operators meet, never a reader in the widget.
STAFF_CODES = {"csrf_failed", "login_failed", "metrics_token_required", "metrics_forbidden",
               "origin_taken", "origin_not_found",
               # EU DSA decisions by moderators (the staff API and the workspace)
               "decided_already", "not_appealed", "same_moderator", "comment_not_published",
               # a moderator's undo of an action someone changed since (the workspace)
               "changed_since",
               # a decision on a comment erased on its author's request (staff only)
               "erased"}


def problem_codes() -> set[str]:
    """Every problem code the server's sources can answer with."""
    src = SOURCES.parents[1]
    found: set[str] = set()
    for path in src.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'\bcode ?= ?"([a-z_]+)"', text))
        found |= set(re.findall(r'problem(?:_body)?\(\s*\d{3}, "([a-z_]+)"', text))
    return found - STAFF_CODES


def test_it_has_a_message_for_every_problem_code_in_every_language() -> None:
    codes = problem_codes()
    assert {"invalid_input", "too_long", "origin_not_allowed", "own_comment"} <= codes
    for lang in languages():
        missing = {c for c in codes if f"error_{c}" not in keys(lang)}
        assert not missing, f"{lang}: add error_<code> messages to js/i18n/{lang}.js for {sorted(missing)}"
