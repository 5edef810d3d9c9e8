"""Inline feedback inside the widget: the passage panel speaks the widget's language,
looks like it, follows its theme, and what is posted there shows in the discussion."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from widget_page import Discussion, expect, widget

pytestmark = pytest.mark.browser

PASSAGE = "the largest transport project the city has started in forty years"
ARTICLE = (f'<article id="story"><p>The council voted on Tuesday to build a tram line, {PASSAGE}.'
           "</p><p>Construction is due to begin next spring.</p></article>")


def select(page: Any, text: str) -> None:
    page.wait_for_function("() => !!document.querySelector('rostra-inline-button')")  # mounted
    page.evaluate(
        """(text) => {
          const walker = document.createTreeWalker(document.getElementById('story'), NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const n = walker.currentNode, at = n.data.indexOf(text);
            if (at < 0) continue;
            const r = document.createRange();
            r.setStart(n, at);
            r.setEnd(n, at + text.length);
            getSelection().removeAllRanges();
            getSelection().addRange(r);
            return;
          }
          throw new Error('not in the article: ' + text);
        }""", text)


def panel(page: Any) -> Any:
    return page.locator("#story rostra-inline-panel section")


def test_it_shows_a_passage_comment_in_the_list_tab_and_count_at_once(
    discussion: Discussion, page: Any
) -> None:
    head = "<style>html.night { background: #101418; color: #ddd }</style>"
    page.goto(discussion.url(before=ARTICLE, head=head))
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    select(page, PASSAGE)
    page.get_by_role("button", name="Comment on this passage").click()
    panel(page).get_by_label("Name").fill("Ana")
    panel(page).get_by_label("Comment").fill("Forty years? The last one was 1985.")
    panel(page).get_by_role("button", name="Post comment").click()
    expect(panel(page).locator("article .body")).to_have_text("Forty years? The last one was 1985.")
    expect(widget(page).locator("h2")).to_have_text("1 comment")
    listed = widget(page).locator("ol.list > li")
    expect(listed.locator(".body p")).to_have_text("Forty years? The last one was 1985.")
    expect(listed.locator(".quote")).to_have_text(PASSAGE)
    # the same date format as the discussion's, the same fonts and buttons
    expect(panel(page).locator("time")).to_have_text(listed.locator("time").inner_text())
    font = widget(page).locator(".r").evaluate("e => getComputedStyle(e).fontFamily")
    expect(panel(page)).to_have_css("font-family", font)
    accent = widget(page).locator(".fs [type=submit]").evaluate(
        "e => getComputedStyle(e).backgroundColor")
    expect(panel(page).get_by_role("button", name="Post comment")).to_have_css("background-color", accent)
    # a live theme switch reaches the open panel
    page.evaluate("document.documentElement.classList.add('night')")
    expect(widget(page).locator(".r")).to_have_class("r dark")
    expect(panel(page)).to_have_class("r dark")
    widget(page).get_by_role("tab", name="Inline Feedbacks").click()
    expect(widget(page).locator("ol.list > li .quote")).to_have_text(PASSAGE)


def test_it_speaks_the_widgets_language_in_the_passage_panel(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url(lang="de", before=ARTICLE))
    expect(widget(page).get_by_role("textbox", name="Kommentar")).to_be_visible()
    select(page, PASSAGE)
    page.get_by_role("button", name="Diese Textstelle kommentieren").click()
    expect(panel(page).get_by_role("heading")).to_have_text("Textstelle")
    expect(panel(page).get_by_text("Noch keine Kommentare zu dieser Textstelle.")).to_be_visible()
    expect(panel(page).get_by_role("button", name="Kommentar senden")).to_be_visible()
    expect(panel(page).get_by_role("button", name="Schließen")).to_be_visible()


def select_first_letter_of(page: Any, text: str) -> None:
    """The first letter of `text` selected, as a screen reader's browse mode or caret
    browsing (F7, which a test cannot press) leaves it; the keyboard extends it from there."""
    page.wait_for_function("() => !!document.querySelector('rostra-inline-button')")  # mounted
    page.evaluate(
        """(text) => {
          const walker = document.createTreeWalker(document.getElementById('story'), NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const n = walker.currentNode, at = n.data.indexOf(text);
            if (at >= 0) return getSelection().setBaseAndExtent(n, at, n, at + 1);
          }
          throw new Error('not in the article: ' + text);
        }""", text)


def test_a_keyboard_reader_selects_a_passage_and_tabs_to_its_button(
    discussion: Discussion, page: Any
) -> None:
    page.goto(discussion.url(before=ARTICLE))
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    select_first_letter_of(page, "Construction")
    for _ in range(len("onstruction is due")):
        page.keyboard.press("Shift+ArrowRight")
    button = page.get_by_role("button", name="Comment on this passage")
    expect(button).to_be_visible()
    # the frame after the last key, where the page places the button (a reader is slower)
    page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    # the next Tab goes to the button, not on into the discussion below the article
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    # near the passage, where the reader's eyes are
    passage = page.evaluate("getSelection().getRangeAt(0).getBoundingClientRect().toJSON()")
    box = button.bounding_box()
    assert box is not None and 0 <= box["y"] - passage["bottom"] < 40
    page.keyboard.press("Enter")
    expect(panel(page).locator("blockquote")).to_have_text("Construction is due")
    expect(panel(page).get_by_role("textbox", name="Comment")).to_be_focused()


def test_a_passage_comment_that_fails_keeps_the_focus_on_post(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url(before=ARTICLE))
    select(page, PASSAGE)
    page.get_by_role("button", name="Comment on this passage").click()
    panel(page).get_by_label("Name").fill("Dan")
    panel(page).get_by_role("textbox", name="Comment").fill("Sent while the network is down")
    page.route("**/api/comments", lambda r: r.abort() if r.request.method == "POST" else r.fallback())
    post = panel(page).get_by_role("button", name="Post comment")
    post.focus()
    page.keyboard.press("Enter")
    expect(panel(page).get_by_role("alert")).to_contain_text("cannot be reached")
    # a disabled button while sending sent the focus to the top of the page
    expect(post).to_be_focused()
    expect(post).not_to_have_attribute("aria-disabled", "true")
    expect(panel(page).get_by_role("textbox", name="Comment")).to_have_value("Sent while the network is down")


def test_a_passage_gone_from_the_article_is_marked_in_the_inline_tab(
    discussion: Discussion, page: Any
) -> None:
    def seed(text: str, anchor: dict[str, Any]) -> None:
        response = httpx.post(
            f"{discussion.server_url}/api/comments",
            json={"site": discussion.site, "thread": discussion.thread, "title": "Test article",
                  "name": "Seeder", "text": text, "anchor": anchor},
            headers=discussion.other_reader())
        assert response.status_code == 201, response.text

    seed("Still there", {"exact": "Construction is due to begin", "prefix": "forty years. ",
                         "suffix": " next spring."})
    # the editors have since cut this sentence from the article
    seed("Which stops?", {"exact": "The line will have fourteen stops",
                          "prefix": "is due to begin next spring. ", "suffix": "."})
    page.goto(discussion.url(before=ARTICLE))
    expect(page.locator("#story rostra-marker")).to_have_count(1)
    widget(page).get_by_role("tab", name="Inline Feedbacks").click()
    listed = widget(page).locator("ol.list > li")
    expect(listed).to_have_count(2)
    gone = listed.filter(has_text="Which stops?")
    expect(gone.get_by_text("passage changed")).to_be_visible()
    expect(gone.locator(".quote")).to_have_text("The line will have fourteen stops")
    expect(listed.filter(has_text="Still there").get_by_text("passage changed")).to_have_count(0)
