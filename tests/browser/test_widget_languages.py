"""Each language renders; the language comes from the element or the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from widget_page import Discussion, expect, widget

from rostra.widget.build import SOURCES, languages

pytestmark = pytest.mark.browser


REQUIRED = {"en", "de", "fr", "es", "ru", "sk", "uk", "ko"}


def strings(lang: str) -> dict[str, str]:
    """The plain (non-plural) strings of a language file, read as text."""
    text = (SOURCES / "i18n" / f"{lang}.js").read_text(encoding="utf-8")
    return dict(re.findall(r'^\s+(\w+): "((?:[^"\\]|\\.)*)",$', text, re.MULTILINE))


def test_it_ships_the_required_languages_and_more() -> None:
    assert REQUIRED | {"ar", "he"} <= set(languages()) and len(languages()) >= 16


@pytest.mark.parametrize("lang", languages())
def test_it_renders_in_each_language(discussion: Discussion, page: Any, lang: str) -> None:
    discussion.post("Hello")
    page.goto(discussion.url(lang=lang))
    own = strings(lang)
    expect(widget(page).get_by_role("button", name=own["identity"])).to_be_visible()
    expect(widget(page).get_by_role("textbox", name=own["text"])).to_have_attribute("placeholder", own["formTitle"])
    expect(widget(page).get_by_role("tab", name=own["newest"])).to_have_attribute("aria-selected", "true")
    expect(widget(page).get_by_role("button", name=own["reply"])).to_be_visible()
    expect(widget(page).get_by_role("button", name=own["report"], exact=True)).to_be_visible()
    # this server sends no email: no "Notify of" to offer
    expect(widget(page).get_by_role("button", name=own["subscribe"], exact=True)).to_be_hidden()
    expect(widget(page).locator(".r")).to_have_attribute("lang", lang)
    expect(widget(page).locator(".r")).to_have_attribute("dir", "rtl" if lang in {"ar", "he", "fa", "ur"} else "ltr")
    heading = widget(page).locator("h2")
    if lang in {"ar", "he"}:  # "one comment" written out, without a digit
        expect(heading).not_to_have_text("")
    else:
        expect(heading).to_contain_text(page.evaluate(f"new Intl.NumberFormat('{lang}').format(1)"))


def test_it_prefers_the_elements_lang_attribute_over_the_page(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url(lang="fr", attrs='lang="uk"'))
    expect(widget(page).get_by_role("button", name=strings("uk")["identity"])).to_be_visible()


def test_it_falls_back_to_english_for_a_language_it_does_not_speak(
    discussion: Discussion, page: Any
) -> None:
    page.goto(discussion.url(lang="xx-YY"))
    expect(widget(page).get_by_role("button", name="Name and email")).to_be_visible()


def test_it_uses_plural_rules_of_the_language(discussion: Discussion, page: Any) -> None:
    for i in range(3):
        discussion.post(f"Комментарий {i}")
    page.goto(discussion.url(lang="ru"))
    expect(widget(page).locator("h2")).to_have_text("3 комментария")




def test_it_falls_back_to_english_not_to_the_browsers_language(
    discussion: Discussion, chromium: Any
) -> None:
    context = chromium.new_context(locale="de-DE")
    try:
        page = context.new_page()
        page.goto(discussion.url(lang="xx-YY"))
        expect(widget(page).get_by_role("button", name="Name and email")).to_be_visible()
        page.goto(discussion.url(lang=""))  # a page that states no language: the browser's
        expect(widget(page).get_by_role("button", name="Name und E-Mail")).to_be_visible()
    finally:
        context.close()


def test_it_lays_out_right_to_left_in_arabic(discussion: Discussion, page: Any) -> None:
    parent = discussion.post("مرحبا بكم في النقاش")["comment"]["id"]
    discussion.post("شكرا لكم", parent_id=parent)
    page.goto(discussion.url(lang="ar"))
    root = widget(page).locator(".r")
    expect(root).to_have_attribute("dir", "rtl")
    expect(widget(page).locator("h2")).to_have_text("تعليقان")
    replies = widget(page).locator(f"#comment-{parent} > ol.rp")
    expect(replies).to_have_css("border-right-width", "2px")
    expect(replies).to_have_css("border-left-width", "0px")


def test_it_gives_each_text_a_reader_wrote_its_own_direction(discussion: Discussion, page: Any) -> None:
    hebrew = discussion.post("שלום לכולם, זו תגובה בעברית", name="דנה")["comment"]["id"]
    english = discussion.post("Plain English here")["comment"]["id"]
    page.goto(discussion.url())
    body = widget(page).locator(f"#comment-{hebrew} .body")
    expect(body).to_have_text("שלום לכולם, זו תגובה בעברית")
    assert body.evaluate("e => e.matches(':dir(rtl)')")
    assert widget(page).locator(f"#comment-{hebrew} .au").evaluate("e => e.matches(':dir(rtl)')")
    assert widget(page).locator(f"#comment-{english} .body").evaluate("e => e.matches(':dir(ltr)')")
    expect(widget(page).locator(".r")).to_have_attribute("dir", "ltr")
    assert widget(page).get_by_role("textbox", name="Comment").get_attribute("dir") == "auto"


def test_its_arrow_keys_follow_the_tabs_right_to_left(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url(lang="ar"))
    tabs = widget(page).get_by_role("tab")
    expect(tabs).to_have_count(4)
    newest, oldest = tabs.nth(0), tabs.nth(1)
    # laid out right to left, the second tab stands to the left of the first
    assert oldest.bounding_box()["x"] < newest.bounding_box()["x"]
    newest.focus()
    page.keyboard.press("ArrowLeft")  # towards the tab on the left, as the WAI-ARIA tabs pattern says
    expect(oldest).to_be_focused()
    expect(oldest).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowRight")
    expect(newest).to_be_focused()
    expect(newest).to_have_attribute("aria-selected", "true")
