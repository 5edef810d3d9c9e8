"""Themes and host styling: dark mode, custom properties, Shadow DOM isolation."""

from __future__ import annotations

from typing import Any

import pytest
from widget_page import Discussion, expect, widget

pytestmark = pytest.mark.browser


def background(page: Any) -> list[int]:
    """The widget's background colour as [r, g, b]."""
    rgb = page.evaluate(
        """() => getComputedStyle(document.querySelector('rostra-comments').shadowRoot
                 .querySelector('.r')).backgroundColor"""
    )
    return [int(part) for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]


def is_dark(rgb: list[int]) -> bool:
    return sum(rgb) / 3 < 80


def test_it_renders_dark_when_asked(discussion: Discussion, page: Any) -> None:
    discussion.post("Seen in the dark")
    page.goto(discussion.url(attrs='theme="dark"'))
    expect(widget(page).locator(".r")).to_have_class("r dark")
    assert is_dark(background(page))


def test_it_follows_the_page_not_the_os_in_auto(discussion: Discussion, page: Any) -> None:
    # A white news site read by someone whose system is dark: the widget stays light.
    page.emulate_media(color_scheme="dark")
    page.goto(discussion.url())
    expect(widget(page).locator(".r")).to_have_attribute("data-theme", "light")
    assert not is_dark(background(page))


def test_it_follows_a_page_that_follows_the_os(discussion: Discussion, page: Any) -> None:
    head = "<style>@media (prefers-color-scheme: dark) { body { background: #121212; color: #eee } }</style>"
    page.emulate_media(color_scheme="dark")
    page.goto(discussion.url(head=head))
    expect(widget(page).locator(".r")).to_have_class("r dark")
    page.emulate_media(color_scheme="light")
    expect(widget(page).locator(".r")).to_have_class("r")
    assert not is_dark(background(page))


def test_it_follows_the_sites_own_theme_switch(discussion: Discussion, page: Any) -> None:
    head = "<style>html.night { background: rgb(20, 20, 30); color: #ddd }</style>"
    page.goto(discussion.url(head=head))
    expect(widget(page).locator(".r")).to_have_attribute("data-theme", "light")
    page.evaluate("document.documentElement.classList.add('night')")
    expect(widget(page).locator(".r")).to_have_class("r dark")
    page.evaluate("document.documentElement.classList.remove('night')")
    expect(widget(page).locator(".r")).to_have_attribute("data-theme", "light")


def test_it_has_padding_of_its_own(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url(attrs='theme="dark"'))
    expect(widget(page).locator(".r")).to_have_class("r dark")
    padding = page.evaluate(
        """() => getComputedStyle(document.querySelector('rostra-comments').shadowRoot
                 .querySelector('.r')).paddingLeft""")
    assert float(padding.removesuffix("px")) >= 8


def test_it_takes_the_hosts_accent_and_ignores_the_hosts_other_css(
    discussion: Discussion, page: Any
) -> None:
    head = ("<style>rostra-comments { --rostra-accent: rgb(200, 0, 0); }"
            " button, textarea { display: none !important; }</style>")
    page.goto(discussion.url(head=head))
    widget(page).get_by_role("textbox", name="Comment").focus()
    submit = widget(page).get_by_role("button", name="Post comment")
    expect(submit).to_be_visible()
    expect(submit).to_have_css("background-color", "rgb(200, 0, 0)")
