"""Inline feedback end to end: select, comment, reload, edit the article, orphans.

The host page (another origin) loads inline.js from the live server's widget files
and mounts it on its <article>, posting through the real API with fetch, as the
widget does.
"""

from __future__ import annotations

import html
import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from rostra.widget.build import bundle

# tests/browser/conftest.py's `discussion` fixture: a site and thread on the live server
# with a host page server of another origin.
Discussion = Any

pytestmark = pytest.mark.browser

STORY = """<h1>Council backs the riverside tram line</h1>
<p>After eleven hours of debate, the city council voted on Tuesday night to build a tram
line along the river, the largest transport project the city has started in forty years.</p>
<p>The line will run from the central station to the new hospital, with fourteen stops.
Construction is due to begin next spring.</p>
<p>Opponents argued that the money would be better spent on buses. "A tram is a
fifty-year decision made in a single evening," said one councillor.</p>"""

PASSAGE = "the largest transport project the city has started in forty years"


def host_page(d: Discussion, article: str) -> str:
    module = f"{d.server_url}/widget/{bundle().version}/inline/inline.js"
    config = json.dumps({"api": d.server_url, "site": d.site, "thread": d.thread})
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Story</title></head>
<body><main><article id="story">{article}</article></main>
<script type="module">
import {{ mountInline }} from {json.dumps(module)};
const cfg = {config};
async function load() {{
  const q = new URLSearchParams({{site: cfg.site, thread: cfg.thread, limit: 'all', sort: 'oldest'}});
  const r = await fetch(`${{cfg.api}}/api/comments?${{q}}`);
  return (await r.json()).comments;
}}
async function postComment({{text, name, email, anchor, parent_id}}) {{
  const r = await fetch(`${{cfg.api}}/api/comments`, {{
    method: 'POST', headers: {{'Content-Type': 'application/json'}},
    body: JSON.stringify({{site: cfg.site, thread: cfg.thread, title: 'Story', text, name, email,
                          anchor, parent_id}}),
  }});
  const data = await r.json();
  if (!r.ok) throw new Error(data.detail || data.title);
  return data.comment;
}}
window.inline = mountInline({{contentRoot: document.getElementById('story'),
                              comments: await load(), postComment}});
window.inlineReady = true;
</script></body></html>"""


def open_story(page: Any, d: Discussion, article: str = STORY, path: str | None = None) -> str:
    url = d.host.serve(host_page(d, article), path)
    page.goto(url)
    page.wait_for_function("window.inlineReady === true")
    return url


def select(page: Any, text: str) -> None:
    """Selects the first occurrence of `text` in the article, as a reader's drag would."""
    page.evaluate(
        """(text) => {
          const root = document.getElementById('story');
          const full = root.textContent.replace(/\\s+/g, ' ');
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          // Map collapsed offsets to text nodes: enough for this article's plain text.
          let acc = '', points = [];
          while (walker.nextNode()) {
            const n = walker.currentNode;
            for (let i = 0; i < n.data.length; i++) {
              const ws = /\\s/.test(n.data[i]);
              if (ws && acc.endsWith(' ')) continue;
              points.push([n, i]);
              acc += ws ? ' ' : n.data[i];
            }
          }
          const at = acc.indexOf(text);
          if (at < 0) throw new Error('not in the article: ' + text);
          const [sn, so] = points[at];
          const [en, eo] = points[at + text.length - 1];
          const r = document.createRange();
          r.setStart(sn, so);
          r.setEnd(en, eo + 1);
          const sel = getSelection();
          sel.removeAllRanges();
          sel.addRange(r);
        }""",
        text,
    )


def highlighted(page: Any) -> list[str]:
    """The text of each highlighted passage, whitespace collapsed."""
    return list(page.evaluate(
        """() => [...(CSS.highlights.get('rostra-passage') ?? [])]
                   .map((r) => r.toString().replace(/\\s+/g, ' ').trim())"""
    ))


def marker(page: Any) -> Any:
    return page.locator("#story rostra-marker button")


def panel(page: Any) -> Any:
    return page.locator("#story rostra-inline-panel section")


def seed(d: Discussion, text: str, anchor: dict[str, Any] | None,
         parent_id: int | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{d.server_url}/api/comments",
        json={"site": d.site, "thread": d.thread, "title": "Story", "name": "Seeder",
              "text": text, "anchor": anchor, "parent_id": parent_id},
        headers={"Origin": d.host.origin},
    )
    assert response.status_code == 201, response.text
    return dict(response.json()["comment"])


def describe_in(page: Any, text: str) -> dict[str, Any]:
    """The selector the page would store for the passage `text`."""
    select(page, text)
    return dict(page.evaluate(
        """async () => {
          const A = await import(document.querySelector('script[type=module]').textContent
            .match(/from "([^"]+)"/)[1].replace('inline.js', 'anchor.js'));
          const root = document.getElementById('story');
          return A.describe(A.textIndex(root), getSelection().getRangeAt(0));
        }"""
    ))


def test_it_comments_on_a_selected_passage_and_keeps_it_after_reload(
    discussion: Discussion, page: Any
) -> None:
    url = open_story(page, discussion)
    expect(marker(page)).to_have_count(0)
    select(page, PASSAGE)
    page.get_by_role("button", name="Comment on this passage").click()
    expect(panel(page).locator("blockquote")).to_have_text(PASSAGE)
    expect(panel(page).get_by_label("Your comment")).to_be_focused()
    panel(page).get_by_label("Name").fill("Ana")
    panel(page).get_by_label("Your comment").fill("Forty years? The last one was 1985.")
    panel(page).get_by_role("button", name="Post").click()
    expect(panel(page).locator("article .body")).to_have_text("Forty years? The last one was 1985.")
    expect(marker(page)).to_have_text("1")
    expect(marker(page)).to_have_accessible_name("1 comment on this passage")

    stored = httpx.get(f"{discussion.server_url}/api/comments",
                       params={"site": discussion.site, "thread": discussion.thread}).json()
    anchor = stored["comments"][0]["anchor"]
    assert anchor["exact"] == PASSAGE
    assert anchor["prefix"].endswith("along the river, ") and anchor["suffix"].startswith(".")

    page.goto(url)
    page.wait_for_function("window.inlineReady === true")
    expect(marker(page)).to_have_text("1")
    assert highlighted(page) == [PASSAGE]
    # The host's text is as it was: one marker, no wrappers, the paragraph reads the same.
    text = page.evaluate("document.querySelector('#story p').textContent.replace(/\\s+/g, ' ')")
    assert PASSAGE + "." in text
    marker(page).click()
    expect(panel(page).locator("article .body")).to_have_text("Forty years? The last one was 1985.")
    page.keyboard.press("Escape")
    expect(panel(page)).to_have_count(0)
    expect(marker(page)).to_be_focused()


def test_it_finds_the_passage_again_after_the_article_is_edited(
    discussion: Discussion, page: Any
) -> None:
    url = open_story(page, discussion)
    anchor = describe_in(page, PASSAGE)
    seed(discussion, "Is that true?", anchor)
    edited = STORY.replace(
        "<h1>Council backs the riverside tram line</h1>",
        "<h1>Council finally backs the disputed tram line</h1>\n<p>Updated with reactions.</p>",
    ).replace("the largest transport project", "<em>by far</em> the largest public transport project")
    path = url.removeprefix(discussion.host.origin)
    open_story(page, discussion, edited, path)
    expect(marker(page)).to_have_text("1")
    assert highlighted(page) == [
        "by far the largest public transport project the city has started in forty years"
    ] or highlighted(page) == [
        "the largest public transport project the city has started in forty years"
    ]
    assert page.evaluate("window.inline.orphans().length") == 0


def test_it_keeps_a_deleted_passage_as_an_orphan(discussion: Discussion, page: Any) -> None:
    url = open_story(page, discussion)
    anchor = describe_in(page, PASSAGE)
    seed(discussion, "Is that true?", anchor)
    edited = STORY.replace(", the largest transport project the city has started in forty years", "")
    open_story(page, discussion, edited, url.removeprefix(discussion.host.origin))
    expect(marker(page)).to_have_count(0)
    assert highlighted(page) == []
    orphans = page.evaluate(
        "window.inline.orphans().map((o) => ({quote: o.quote, count: o.count, orphaned: o.orphaned}))"
    )
    assert orphans == [{"quote": PASSAGE, "count": 1, "orphaned": True}]


def test_it_shows_the_discussion_under_the_passage_on_a_phone(
    discussion: Discussion, page: Any, axe_source: str
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    open_story(page, discussion)
    anchor = describe_in(page, "fourteen stops")
    first = seed(discussion, "Only fourteen?", anchor)
    open_story(page, discussion)
    marker(page).click()
    box = panel(page).bounding_box()
    passage = page.evaluate(
        "(() => { const r = CSS.highlights.get('rostra-passage-open').values().next().value;"
        " const b = r.getBoundingClientRect(); return {bottom: b.bottom + scrollY}; })()"
    )
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["y"] >= passage["bottom"]
    panel(page).get_by_role("button", name="Reply").click()
    expect(panel(page).get_by_text("Replying to Seeder")).to_be_visible()
    panel(page).get_by_label("Name").fill("Ben")
    panel(page).get_by_label("Your comment").fill("Enough for a city this size.")
    panel(page).get_by_role("button", name="Post").click()
    expect(panel(page).locator("ul ul article .body")).to_have_text("Enough for a city this size.")
    expect(marker(page)).to_have_text("2")
    replies = httpx.get(f"{discussion.server_url}/api/comments",
                        params={"site": discussion.site, "thread": discussion.thread}
                        ).json()["comments"][0]["replies"]
    assert [r["parent_id"] for r in replies] == [first["id"]]

    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        "axe.run('#story', {runOnly: ['wcag2a', 'wcag2aa']}).then((r) => r.violations"
        ".map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).join(', ')))"
    )
    assert result == []


def test_it_lets_readers_answer_an_editors_question(discussion: Discussion, page: Any) -> None:
    question = "Would you take the tram to the hospital?"
    article = STORY.replace(
        "from the central station to the new hospital",
        f'<rostra-ask question="{html.escape(question)}" id="tram-q">from the central station '
        "to the new hospital</rostra-ask>",
    )
    url = open_story(page, discussion, article)
    expect(marker(page)).to_have_text("? 0")
    marker(page).click()
    expect(panel(page).locator("h2")).to_have_text(f"Question from the editors: {question}")
    panel(page).get_by_label("Name").fill("Cleo")
    panel(page).get_by_label("Your answer").fill("Yes, every week.")
    panel(page).get_by_role("button", name="Post").click()
    expect(marker(page)).to_have_text("? 1")
    stored = httpx.get(f"{discussion.server_url}/api/comments",
                       params={"site": discussion.site, "thread": discussion.thread}).json()
    anchor = stored["comments"][0]["anchor"]
    assert anchor["question_id"] == "tram-q"
    assert anchor["exact"] == "from the central station to the new hospital"
    # The question survives edits of the passage itself: the markup is the anchor.
    open_story(page, discussion, article.replace("new hospital", "university hospital"),
               url.removeprefix(discussion.host.origin))
    expect(marker(page)).to_have_text("? 1")


def test_it_tells_the_reader_when_posting_fails(discussion: Discussion, page: Any) -> None:
    open_story(page, discussion)
    select(page, "fourteen stops")
    page.get_by_role("button", name="Comment on this passage").click()
    panel(page).get_by_label("Name").fill("Dan")
    panel(page).get_by_label("Your comment").fill("x" * 100_000)
    panel(page).get_by_role("button", name="Post").click()
    expect(panel(page).get_by_role("alert")).to_contain_text("Your comment was not posted")
    expect(panel(page).get_by_label("Your comment")).to_have_value("x" * 100_000)
    expect(marker(page)).to_have_count(0)


def test_it_leaves_the_article_as_it_found_it_when_destroyed(
    discussion: Discussion, page: Any
) -> None:
    open_story(page, discussion)
    seed(discussion, "Really?", describe_in(page, PASSAGE))
    seed(discussion, "Which stops?", describe_in(page, "fourteen stops"))
    open_story(page, discussion)
    expect(marker(page)).to_have_count(2)
    marker(page).first.click()
    expect(panel(page)).to_be_visible()
    after = page.evaluate(
        """() => { window.inline.destroy(); const a = document.getElementById('story');
             const w = document.createTreeWalker(a, NodeFilter.SHOW_TEXT); let n = 0;
             while (w.nextNode()) n++;
             return {html: a.innerHTML, textNodes: n, ui: document.querySelectorAll('[data-rostra-ui]').length,
                     highlights: CSS.highlights.size}; }"""
    )
    original = page.evaluate(
        """(html) => { const d = document.createElement('article'); d.innerHTML = html;
             const w = document.createTreeWalker(d, NodeFilter.SHOW_TEXT); let n = 0;
             while (w.nextNode()) n++; return {html: d.innerHTML, textNodes: n}; }""",
        STORY,
    )
    assert after == {**original, "ui": 0, "highlights": 0}


ARABIC_STORY = """<h1>المجلس يوافق على خط الترام</h1>
<p>بعد إحدى عشرة ساعة من النقاش، صوّت مجلس المدينة ليلة الثلاثاء على بناء خط ترام على طول
النهر، وهو أكبر مشروع نقل بدأته المدينة منذ أربعين عامًا.</p>
<p>سيمتد الخط من المحطة المركزية إلى المستشفى الجديد، مع أربع عشرة محطة. ومن المقرر أن يبدأ
البناء في الربيع المقبل.</p>"""


def test_it_lays_out_right_to_left_in_an_arabic_article_without_the_widget(
    discussion: Discussion, page: Any
) -> None:
    rtl = host_page(discussion, ARABIC_STORY).replace('<html lang="en">', '<html lang="ar" dir="rtl">')
    url = discussion.host.serve(rtl)
    page.goto(url)
    page.wait_for_function("window.inlineReady === true")
    first = seed(discussion, "حقا؟", describe_in(page, "أكبر مشروع نقل"))
    seed(discussion, "نعم", None, first["id"])
    page.goto(url)
    page.wait_for_function("window.inlineReady === true")

    # The button comes under the end of the selection, which in Arabic is its left edge.
    select(page, "المحطة المركزية إلى المستشفى")
    button = page.get_by_role("button", name="Comment on this passage")
    expect(button).to_be_visible()
    place = page.evaluate(
        """() => { const rs = getSelection().getRangeAt(0).getClientRects();
                   const last = rs[rs.length - 1];
                   const b = document.querySelector('rostra-inline-button').getBoundingClientRect();
                   return {end: last.left, start: last.right, left: b.left, right: b.right}; }"""
    )
    assert place["left"] <= place["end"] <= place["right"], place
    assert place["right"] < place["start"], place

    # The discussion's edges and indents sit on the right, where Arabic lines start.
    marker(page).click()
    sides = page.evaluate(
        """() => { const root = document.querySelector('rostra-inline-panel').shadowRoot;
                   const css = (sel) => getComputedStyle(root.querySelector(sel));
                   return {section: [css('section').borderRightWidth, css('section').borderLeftWidth],
                           quote: [css('blockquote').borderRightWidth, css('blockquote').borderLeftWidth],
                           reply: [css('ul ul').marginRight, css('ul ul').marginLeft],
                           direction: css('section').direction}; }"""
    )
    assert sides == {"section": ["4px", "1px"], "quote": ["3px", "0px"],
                     "reply": ["18.75px", "0px"], "direction": "rtl"}


EMOJI_STORY = """<h1>Fans 🎉🎉 celebrate in the square</h1>
<p>The team 🏆 won the cup 👍🏽 after a long season, said the café owner.</p>
<p>Next year the club plans a new stadium by the river.</p>"""


def test_it_anchors_passages_after_emoji_on_the_right_characters(
    discussion: Discussion, page: Any
) -> None:
    # Emoji take two UTF-16 units each: every one before a passage used to shift its
    # highlight and marker by a character, and cut the end off a quote holding one.
    seed(discussion, "Where exactly?", {"exact": "a new stadium",
                                        "prefix": "the café owner. Next year the club plans ",
                                        "suffix": " by the river."})
    open_story(page, discussion, EMOJI_STORY)
    expect(marker(page)).to_have_count(1)
    assert highlighted(page) == ["a new stadium"]
    assert page.evaluate(
        "document.querySelector('#story rostra-marker').previousSibling.data.endsWith('a new stadium')"
    )

    select(page, "won the cup 👍🏽 after")
    page.get_by_role("button", name="Comment on this passage", exact=True).click()
    expect(panel(page).locator("blockquote")).to_have_text("won the cup 👍🏽 after")
    panel(page).get_by_label("Name").fill("Eve")
    panel(page).get_by_label("Your comment").fill("What a final.")
    panel(page).get_by_role("button", name="Post").click()
    expect(marker(page)).to_have_count(2)
    page.keyboard.press("Escape")
    expect(panel(page)).to_have_count(0)
    assert sorted(highlighted(page)) == ["a new stadium", "won the cup 👍🏽 after"]
    stored = httpx.get(f"{discussion.server_url}/api/comments",
                       params={"site": discussion.site, "thread": discussion.thread,
                               "sort": "newest"}).json()
    anchor = stored["comments"][0]["anchor"]
    assert anchor["exact"] == "won the cup 👍🏽 after"
    assert anchor["suffix"].startswith(" a long season")


def test_it_anchors_a_very_long_selection_by_its_start(discussion: Discussion, page: Any) -> None:
    # The server keeps quotes up to 2,000 characters; a reader who selects three long
    # paragraphs was told "anchor.exact" was not accepted, with nothing to do about it.
    paragraphs = [f"Paragraph {n} of the council's long report, which goes on and on. " * 12
                  for n in range(1, 4)]
    article = "<h1>The full report</h1>\n" + "\n".join(f"<p>{p.strip()}</p>" for p in paragraphs)
    open_story(page, discussion, article)
    selection = " ".join(p.strip() for p in paragraphs)
    assert len(selection) > 2000
    select(page, selection)
    page.get_by_role("button", name="Comment on this passage").click()
    panel(page).get_by_label("Name").fill("Flo")
    panel(page).get_by_label("Your comment").fill("Nobody reads all that.")
    panel(page).get_by_role("button", name="Post").click()
    expect(marker(page)).to_have_count(1)
    expect(panel(page).locator("[role=alert]")).to_be_empty()
    stored = httpx.get(f"{discussion.server_url}/api/comments",
                       params={"site": discussion.site, "thread": discussion.thread}).json()
    exact = stored["comments"][0]["anchor"]["exact"]
    assert 1900 < len(exact) <= 2000 and selection.startswith(exact + " ")


def test_a_long_quote_is_shortened_without_splitting_an_emoji(
    discussion: Discussion, page: Any
) -> None:
    # The panel shows 300 UTF-16 units of a long quote: cut inside an emoji, it showed
    # half of it (a lone surrogate, drawn as "�").
    passage = ("The mayor said the new bridge would be " + "very " * 60)[:299] + "👍 as promised."
    seed(discussion, "Long quote", {"exact": passage, "prefix": "Before it. ",
                                    "suffix": " After it."})
    open_story(page, discussion, f"<h1>Story</h1><p>Before it. {passage} After it.</p>")
    expect(marker(page)).to_have_count(1)
    marker(page).click()
    quote = panel(page).locator("blockquote")
    expect(quote).to_contain_text("The mayor said")
    text = quote.evaluate("(q) => q.textContent")
    assert text.endswith("…")
    assert not page.evaluate(
        "(t) => /[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]/.test(t)",
        text)


def test_the_selection_button_goes_when_a_passages_panel_opens(
    discussion: Discussion, page: Any
) -> None:
    # A reader with text selected who opened another passage's comments had the
    # "Comment on this passage" button left floating over the panel.
    seed(discussion, "Fourteen is a lot.", {"exact": "with fourteen stops",
                                            "prefix": "to the new hospital, ",
                                            "suffix": ". Construction is due"})
    open_story(page, discussion)
    expect(marker(page)).to_have_count(1)
    select(page, "the largest transport project")
    ask = page.get_by_role("button", name="Comment on this passage", exact=True)
    expect(ask).to_be_visible()
    marker(page).focus()
    page.keyboard.press("Enter")  # the keyboard leaves the selection as it is
    expect(panel(page).locator("blockquote")).to_have_text("with fourteen stops")
    expect(ask).to_be_hidden()
