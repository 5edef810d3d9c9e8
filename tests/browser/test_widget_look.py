"""How the discussion looks: avatars, long comments, deep threads, picks, badges."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from test_widget_accessibility import audit
from tests.api.test_sso import signed
from widget_page import Discussion, comment, expect, widget

from rostra.store.staff_tables import comment_pins

pytestmark = pytest.mark.browser


def test_it_draws_an_avatar_per_author_without_asking_anyone(discussion: Discussion, page: Any) -> None:
    first = discussion.post("First", name="Ana Novak")["comment"]["id"]
    other = discussion.post("Second", name="ben")["comment"]["id"]
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(discussion.url())
    avatar = comment(page, first).locator(".av")
    expect(avatar).to_have_text("AN")
    expect(avatar).to_have_attribute("aria-hidden", "true")
    expect(comment(page, other).locator(".av")).to_have_text("B")
    colours = [comment(page, i).locator(".av").evaluate("e => getComputedStyle(e).backgroundColor")
               for i in (first, other)]
    assert colours[0] != colours[1]
    hosts = {u.split("/")[2] for u in requests}
    assert hosts <= {discussion.host.origin.split("/")[2], discussion.server_url.split("/")[2]}


def test_it_folds_a_long_comment_behind_read_more(discussion: Discussion, page: Any) -> None:
    long = "\n\n".join(f"Paragraph {i}: " + "the tram line will change the city. " * 8 for i in range(12))
    cid = discussion.post(long)["comment"]["id"]
    page.goto(discussion.url())
    body = comment(page, cid).locator(".body")
    more = body.get_by_role("button", name="Read more")
    expect(more).to_be_visible()
    clip = body.locator(".clip")
    assert clip.evaluate("e => e.clientHeight < e.scrollHeight")
    more.click()
    expect(more).to_have_count(0)
    expect(body.locator("p").last).to_be_visible()
    assert body.locator(":scope > div").evaluate("e => e.clientHeight >= e.scrollHeight")


def test_it_folds_deep_threads_into_more_replies(discussion: Discussion, page: Any) -> None:
    parent = None
    ids = []
    for depth in range(5):
        parent = discussion.post(f"Depth {depth}", parent_id=parent)["comment"]["id"]
        ids.append(parent)
    page.goto(discussion.url())
    expect(comment(page, ids[2]).locator(":scope > article .body")).to_have_text("Depth 2")
    toggle = comment(page, ids[2]).locator(':scope > article [data-act="toggle"]')
    expect(toggle).to_have_text("2 more replies")
    expect(comment(page, ids[3])).to_have_count(0)
    toggle.click()
    expect(comment(page, ids[3]).locator(":scope > article .body")).to_have_text("Depth 3")


def test_it_shows_pinned_and_picked_comments_first_and_clearly(
    discussion: Discussion, live_server: Any, page: Any
) -> None:
    picked = discussion.post("An editors' pick")["comment"]["id"]
    discussion.post("Newer, plain")
    with live_server.services.db.write() as conn:
        conn.execute(insert(comment_pins).values(comment_id=picked, site_id=discussion.site, kind="featured",
                                                 created_by="test", created_at=datetime.now(UTC)))
    page.goto(discussion.url())
    first = widget(page).locator("ol.list > li").first
    expect(first).to_have_id(f"comment-{picked}")
    expect(first.locator(".badge")).to_have_text("Editors' pick")
    expect(first).to_have_class("c picked")


def test_it_sets_comments_apart_by_space_and_quiet_scores(
    discussion: Discussion, live_server: Any, page: Any
) -> None:
    picked = discussion.post("An editors' pick")["comment"]["id"]
    plain = discussion.post("A plain comment")["comment"]["id"]
    disliked = discussion.post("A disliked comment")["comment"]["id"]
    discussion.vote(disliked, -1)
    discussion.vote(picked, 1)
    with live_server.services.db.write() as conn:
        conn.execute(insert(comment_pins).values(comment_id=picked, site_id=discussion.site, kind="featured",
                                                 created_by="test", created_at=datetime.now(UTC)))
    page.goto(discussion.url())
    expect(comment(page, disliked).locator(".sc")).to_have_text("-1")

    def style(locator: Any, prop: str) -> str:
        return str(locator.evaluate(f"e => getComputedStyle(e).{prop}"))

    # Like its peers, a plain comment sits on the discussion's own background, set apart
    # by a hairline; only picks (and the linked comment) are tinted.
    root = widget(page).locator(".r").first
    assert style(comment(page, plain).locator(":scope > article"), "backgroundColor") == style(
        root, "backgroundColor")
    assert style(comment(page, picked).locator(":scope > article"), "backgroundColor") != style(
        root, "backgroundColor")
    assert style(comment(page, plain), "borderTopWidth") == "1px"
    # A zero score is quiet, a negative one stands out, a positive one is plain text.
    zero, down, up = (comment(page, i).locator(".sc") for i in (plain, disliked, picked))
    assert style(zero, "color") == style(comment(page, plain).locator(".pl"), "color")
    assert style(down, "color") not in {style(zero, "color"), style(up, "color")}
    assert style(up, "fontWeight") == "600" and style(zero, "fontWeight") == "400"


# A phone; and a 1,280 px window at 200 % zoom (640 px) and a small tablet, in the
# languages with the longest tab names, where the row once ran out of the widget with
# its scroll bar hidden and "Inline Feedbacks" cut off (WCAG 1.4.4 and 1.4.10).
@pytest.mark.parametrize(("width", "lang"), [(360, "en"), (640, "fr"), (640, "pl"), (520, "de")])
def test_it_keeps_every_sort_tab_in_view_on_a_phone(
    discussion: Discussion, page: Any, width: int, lang: str
) -> None:
    discussion.post("One comment")
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(discussion.url(lang=lang))
    tabs = widget(page).get_by_role("tab")
    expect(tabs).to_have_count(4)
    box = widget(page).get_by_role("tablist").bounding_box()
    for i in range(4):
        tab = tabs.nth(i).bounding_box()
        assert box["x"] <= tab["x"] and tab["x"] + tab["width"] <= box["x"] + box["width"] + 0.5


@pytest.mark.parametrize(("theme", "lang", "label", "title"), [
    ("light", "en", "Staff", "Written by this site's staff"),
    ("dark", "de", "Team", "Vom Team dieser Website geschrieben"),
    ("light", "ar", "فريق الموقع", "كتبه فريق هذا الموقع"),
])
def test_it_marks_what_the_sites_staff_wrote(
    discussion: Discussion, live_server: Any, page: Any, axe_source: str, theme: str, lang: str,
    label: str, title: str,
) -> None:
    impostor = discussion.post("I am the editor here", name="Staff")["comment"]["id"]
    secret = live_server.services.accounts.make_secret(discussion.site)
    member = httpx.post(
        f"{discussion.server_url}/api/comments",
        json={"site": discussion.site, "thread": discussion.thread, "text": "A member's view"},
        headers={**discussion.other_reader(),
                 "X-Rostra-SSO": signed(secret, id="member-1", name="Mia Member")},
    ).json()["comment"]["id"]
    editor = signed(secret, id="editor-1", name="Eda Editor", staff=True)
    page.goto(discussion.url(attrs=f'theme="{theme}" sso="{html.escape(editor)}"', lang=lang))
    form = widget(page).locator(".fs form")
    form.locator("textarea").fill("A correction from the newsroom.")
    form.locator("[type=submit]").click()
    posted = widget(page).locator("ol.list > li").first
    expect(posted.locator(":scope > article .body")).to_have_text("A correction from the newsroom.")
    badge = posted.locator(":scope > article .ab")
    expect(badge).to_have_text(label)
    expect(badge).to_have_attribute("title", title)
    # Read again, as every reader gets it: the badge comes from the server's page.
    page.reload()
    badge = widget(page).locator("ol.list > li").first.locator(":scope > article .ab")
    expect(badge).to_have_text(label)
    expect(comment(page, impostor).locator(".ab")).to_have_text("")
    plain = comment(page, member).locator(".ab")
    expect(plain).not_to_have_text(label)
    expect(plain).not_to_have_text("")
    # It stands out from the "signed in" badge: filled with the accent colour.
    colours = [b.evaluate("e => getComputedStyle(e).backgroundColor") for b in (badge, plain)]
    assert colours[0] != colours[1]
    assert audit(page, axe_source) == []
