"""Each language renders; the language comes from the element or the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from widget_page import Discussion, expect, widget

from rostra.widget.build import SOURCES

pytestmark = pytest.mark.browser


REQUIRED = {"en", "de", "fr", "es", "ru", "sk", "uk", "ko"}


def strings(lang: str) -> dict[str, str]:
    """The plain (non-plural) strings of a language file, read as text."""
    text = (SOURCES / "i18n" / f"{lang}.js").read_text(encoding="utf-8")
    return dict(re.findall(r'^\s+(\w+): "((?:[^"\\]|\\.)*)",$', text, re.MULTILINE))


@pytest.mark.parametrize("lang", sorted(REQUIRED))
def test_it_renders_in_each_language(discussion: Discussion, page: Any, lang: str) -> None:
    discussion.post("Hello")
    page.goto(discussion.url(lang=lang))
    own = strings(lang)
    expect(widget(page).get_by_role("button", name=own["submit"])).to_be_visible()
    expect(widget(page).get_by_role("tab", name=own["newest"])).to_have_attribute("aria-selected", "true")
    expect(widget(page).get_by_role("button", name=own["reply"])).to_be_visible()
    expect(widget(page).get_by_role("button", name=own["report"], exact=True)).to_be_visible()
    # this server sends no email: no "Notify of" to offer
    expect(widget(page).get_by_role("button", name=own["subscribe"], exact=True)).to_be_hidden()
    expect(widget(page).locator(".r")).to_have_attribute("lang", lang)
    heading = widget(page).locator("h2")
    expect(heading).to_contain_text("1")


def test_it_prefers_the_elements_lang_attribute_over_the_page(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url(lang="fr", attrs='lang="uk"'))
    expect(widget(page).get_by_role("button", name=strings("uk")["submit"])).to_be_visible()


def test_it_falls_back_to_english_for_a_language_it_does_not_speak(
    discussion: Discussion, page: Any
) -> None:
    page.goto(discussion.url(lang="xx-YY"))
    expect(widget(page).get_by_role("button", name="Post comment")).to_be_visible()


def test_it_uses_plural_rules_of_the_language(discussion: Discussion, page: Any) -> None:
    for i in range(3):
        discussion.post(f"Комментарий {i}")
    page.goto(discussion.url(lang="ru"))
    expect(widget(page).locator("h2")).to_have_text("3 комментария")


