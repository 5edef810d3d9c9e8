"""Live updates: a page learns of new comments from the server, and offers them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from widget_page import TRACK_STREAMS, Discussion, comment, expect, widget

pytestmark = pytest.mark.browser

# Counts the page's EventSources and the events they hear (the browser's own class,
# instrumented, not ours).
TRACK = f"<script>{TRACK_STREAMS}</script>"


def newest_fetches(page: Any) -> list[str]:
    """Every later GET of the newest comments that ``page`` makes (what a bare "changed"
    event leads to); the first page's own reads come before this is called."""
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if (
        r.method == "GET" and "/api/comments?" in r.url and "sort=newest" in r.url) else None)
    return fetched


def test_it_offers_new_comments_from_another_reader_without_moving_the_page(
    discussion: Discussion, page: Any, chromium: Any
) -> None:
    url = discussion.url(head=TRACK)
    reader = chromium.new_context(viewport={"width": 1000, "height": 900}, locale="en-US")
    other = reader.new_page()
    other.goto(url)
    expect(widget(other).locator("h2")).to_have_text("0 comments")
    other.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    other_fetches = newest_fetches(other)

    page.goto(url)
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    form = widget(page).locator(".fs form")
    form.get_by_label("Comment").fill("Anyone else at the reopening?")
    form.get_by_label("Name").fill("Mo")
    form.get_by_role("button", name="Post comment").click()
    # The author's own page hears of the comment too: the event carries it.
    page.wait_for_function("window.__events.some((e) => e.comment)")
    expect(widget(page).locator("ol.list > li .body")).to_have_text("Anyone else at the reopening?")

    show = widget(other).get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible()
    expect(widget(other).locator("ol.list > li")).to_have_count(0)  # nothing moved yet
    show.click()
    first = widget(other).locator("ol.list > li").first
    expect(first.locator(".body")).to_have_text("Anyone else at the reopening?")
    expect(first.locator("article")).to_be_focused()
    expect(widget(other).locator("h2")).to_have_text("1 comment")
    expect(show).to_be_hidden()
    # The author's own page, told of the comment (above), does not offer it as new: a
    # comment from the other reader is then one new comment, not two.
    expect(widget(page).locator('[data-act="fresh"]')).to_be_hidden()
    answer = widget(other).locator(".fs form")
    answer.get_by_label("Comment").fill("Yes, it was lovely.")
    answer.get_by_label("Name").fill("Lu")
    answer.get_by_role("button", name="Post comment").click()
    expect(widget(page).locator('[data-act="fresh"]')).to_have_text("1 new comment — show")
    # Both came in the events themselves: the reader's page never fetched them.
    assert other_fetches == []

    other.evaluate("document.querySelector('rostra-comments').remove()")
    other.wait_for_function("window.__streams.every((s) => s.readyState === 2)")
    reader.close()


def test_a_stream_the_browser_gave_up_on_is_opened_again_later(
    discussion: Discussion, page: Any
) -> None:
    # While a server restarts, its proxy answers the stream with an error (502), and a
    # browser's EventSource then gives up for good: the page would hear nothing more.
    # The widget opens the stream again later, and fetches what it missed meanwhile.
    refused: list[str] = []

    def restarting(route: Any) -> None:
        if len(refused) < 2:
            refused.append(route.request.url)
            route.fulfill(status=502, body="Bad Gateway")
        else:
            route.fallback()

    page.clock.install()
    page.route("**/api/events?*", restarting)
    page.goto(discussion.url(head=TRACK))
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    page.wait_for_function("window.__streams.length === 1 && "
                           "window.__streams[0].readyState === 2")
    page.clock.run_for(25_000)  # the first try again (5-10 s) is refused too
    page.wait_for_function("window.__streams.length === 2 && "
                           "window.__streams[1].readyState === 2")
    page.clock.run_for(40_000)  # then 10-20 s
    page.wait_for_function("window.__streams.length === 3 && "
                           "window.__streams[2].readyState === 1")
    assert len(refused) == 2
    with page.expect_request(lambda r: r.method == "GET" and "/api/comments?" in r.url
                             and "sort=newest" in r.url):
        page.clock.run_for(6_000)  # what it missed: fetched once it is back
    discussion.post("Posted once the stream is back.")
    page.wait_for_function("window.__events.some((e) => e.comment)")
    expect(widget(page).get_by_role("button", name="1 new comment — show")).to_be_visible()


def test_a_page_hears_what_was_posted_while_its_stream_was_closed(
    discussion: Discussion, page: Any
) -> None:
    """The stream is closed while the tab is hidden (or the widget out of view); the
    comments posted meanwhile sent their news to nobody. Opened again, the page fetched
    nothing and never offered them."""
    page.goto(discussion.url(head=TRACK))
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    shown = "Object.defineProperty(document, 'visibilityState', {value: '%s', " \
            "configurable: true}); document.dispatchEvent(new Event('visibilitychange'))"
    page.evaluate(shown % "hidden")
    page.wait_for_function("window.__streams.every((s) => s.readyState === 2)")
    discussion.post("Posted while the reader was in another tab.")
    page.evaluate(shown % "visible")
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    show = widget(page).get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible(timeout=10_000)  # fetched at a moment of its own (< 5 s)


def test_a_page_served_from_just_before_a_write_fetches_what_it_missed(
    discussion: Discussion, page: Any
) -> None:
    """While a thread's page is rebuilt after a write, readers get the page from just
    before it, marked with X-Rostra-Stale-Ms; the write's news went out before their
    stream was open, and the page never offered the comment. Here the first page is
    the one from before a comment (the server's answer, held back until the comment is
    posted, and marked as such)."""
    held: list[bool] = []

    def first_page_from_before(route: Any) -> None:
        if held:
            route.continue_()
            return
        held.append(True)
        before = route.fetch()
        discussion.post("Posted while the page was on its way.")
        route.fulfill(response=before, headers={**before.headers, "x-rostra-stale-ms": "120"})

    page.route("**/api/comments?*", first_page_from_before)
    page.goto(discussion.url(head=TRACK))
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    show = widget(page).get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible(timeout=10_000)  # fetched at a moment of its own (< 5 s)


def test_a_comment_a_moderator_takes_down_leaves_open_pages_at_once(
    discussion: Discussion, page: Any, live_server: Any
) -> None:
    from rostra.services.moderation import ModerationService, StaffAction

    first = discussion.post("A remark that a moderator deletes.", name="Al")["comment"]["id"]
    rude = discussion.post("A rude remark that a moderator rejects.", name="Bo")["comment"]["id"]
    discussion.post("A fair answer to the rude remark.", name="Cy", parent_id=rude)
    page.goto(discussion.url(head=TRACK))
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    expect(widget(page).locator("h2")).to_have_text("3 comments")
    fetches = newest_fetches(page)

    moderation = ModerationService(live_server.services.comments)
    moderation.decide(rude, StaffAction.REJECT, actor="test-moderator")
    moderation.decide(first, StaffAction.DELETE, actor="test-moderator")
    # Without a reload: shown as removed, the reply under the rejected one still there.
    for comment_id in (rude, first):
        removed = widget(page).locator(f"#comment-{comment_id}")
        expect(removed).to_have_class(re.compile(r"\btomb\b"))
        expect(removed.locator(".body").first).to_have_text("[deleted]")
    expect(widget(page).locator(f"#comment-{rude} .body").last).to_have_text(
        "A fair answer to the rude remark.")
    expect(widget(page).locator("h2")).to_have_text("1 comment")
    # The events said it all: the page fetched nothing to learn of it.
    page.wait_for_timeout(300)
    assert fetches == []


def test_a_reply_taken_down_while_folded_shows_as_removed_when_unfolded(
    discussion: Discussion, page: Any, live_server: Any
) -> None:
    from rostra.services.moderation import ModerationService, StaffAction

    parent = None
    chain = []
    for n, name in enumerate(("Al", "Bo", "Cy", "Di")):
        parent = discussion.post(f"Link {n} of a long exchange.", name=name,
                                 parent_id=parent)["comment"]["id"]
        chain.append(parent)
    page.goto(discussion.url(head=TRACK))
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    expect(widget(page).locator(f"#comment-{chain[2]}")).to_be_visible()
    expect(widget(page).locator(f"#comment-{chain[3]}")).to_have_count(0)  # folded
    ModerationService(live_server.services.comments).decide(
        chain[3], StaffAction.REJECT, actor="test-moderator")
    expect(widget(page).locator("h2")).to_have_text("3 comments")
    widget(page).locator(f"#comment-{chain[2]} [data-act=toggle]").first.click()
    folded = widget(page).locator(f"#comment-{chain[3]}")
    expect(folded).to_have_class(re.compile(r"\btomb\b"))
    expect(folded.locator(".body").first).to_have_text("[deleted]")


def test_votes_and_edits_by_others_show_in_place_without_a_fetch(
    discussion: Discussion, page: Any
) -> None:
    import httpx

    posted = discussion.post("A remark with a frist typo.", name="Al")
    first, token = posted["comment"]["id"], posted["edit_token"]
    second = discussion.post("A second remark.", name="Bo")["comment"]["id"]
    page.goto(discussion.url(head=TRACK))
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    expect(widget(page).locator(f"#comment-{first} .body").first).to_have_text(
        "A remark with a frist typo.")
    fetches = newest_fetches(page)

    discussion.vote(first, 1)
    discussion.vote(first, 1)
    discussion.vote(second, -1)
    expect(widget(page).locator(f"#comment-{first} .sc").first).to_have_text("2")
    expect(widget(page).locator(f"#comment-{second} .sc").first).to_have_text("-1")
    expect(widget(page).locator(f"#comment-{second} .sc").first).to_have_attribute("data-s", "n")
    # The reader's own vote still works on a comment whose counts came live.
    widget(page).locator(f"#comment-{first} [data-act=up]").first.click()
    expect(widget(page).locator(f"#comment-{first} .sc").first).to_have_text("3")
    expect(widget(page).locator(f"#comment-{first} [data-act=up]").first).to_have_attribute(
        "aria-pressed", "true")

    edited = httpx.patch(f"{discussion.server_url}/api/comments/{first}",
                         json={"text": "A remark with a *first* typo fixed."},
                         headers={**discussion.other_reader(), "X-Rostra-Edit-Token": token})
    assert edited.status_code == 200, edited.text
    body = widget(page).locator(f"#comment-{first} .body").first
    expect(body).to_have_text("A remark with a first typo fixed.")
    expect(body.locator("em")).to_have_text("first")
    expect(widget(page).locator(f"#comment-{first} .ed").first).to_have_text("· edited")
    # The events said it all: the page fetched nothing to learn of it.
    page.wait_for_timeout(300)
    assert fetches == []


def test_a_comment_put_back_or_approved_by_a_moderator_shows_without_a_fetch(
    discussion: Discussion, page: Any, live_server: Any
) -> None:
    from rostra.core.models import CommentState
    from rostra.services.moderation import ModerationService, StaffAction
    from rostra.services.workspace import Workspace

    first = discussion.post("A remark rejected by mistake.", name="Al")["comment"]["id"]
    discussion.post("An answer to it.", name="Bo", parent_id=first)
    page.goto(discussion.url(head=TRACK))
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    expect(widget(page).locator("h2")).to_have_text("2 comments")
    fetches = newest_fetches(page)

    workspace = Workspace(live_server.services, ModerationService(live_server.services.comments))
    undo = workspace.decide([first], StaffAction.REJECT, actor="test-moderator")
    shown = widget(page).locator(f"#comment-{first}")
    expect(shown).to_have_class(re.compile(r"\btomb\b"))
    expect(widget(page).locator("h2")).to_have_text("1 comment")
    workspace.undo(undo, actor="test-moderator")
    expect(shown).not_to_have_class(re.compile(r"\btomb\b"))
    expect(shown.locator(".body").first).to_have_text("A remark rejected by mistake.")
    expect(shown.locator(".au").first).to_have_text("Al")
    expect(shown.locator(".body").last).to_have_text("An answer to it.")
    expect(widget(page).locator("h2")).to_have_text("2 comments")

    # A comment held again (by readers' flags, say), then approved: offered as new.
    held = discussion.post("A remark held for a moderator.", name="Cy")["comment"]["id"]
    live_server.services.comments.set_state(held, CommentState.PENDING)
    live_server.services.comments.set_state(held, CommentState.APPROVED)
    show = widget(page).get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible()
    show.click()
    expect(widget(page).locator(f"#comment-{held} .body").first).to_have_text(
        "A remark held for a moderator.")
    page.wait_for_timeout(300)
    assert fetches == []


def test_news_is_taken_in_the_order_it_came_while_news_js_loads(
    discussion: Discussion, page: Any, live_server: Any
) -> None:
    import time

    from rostra.core.models import CommentState

    discussion.post("A first remark.", name="Al")
    page.goto(discussion.url(head=TRACK))
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    # news.js, loaded with the first news of a comment on the page, comes slowly.
    page.route("**/news.js*", lambda route: (time.sleep(1.5), route.continue_()))
    comment = discussion.post("Held by readers' flags, then approved.", name="Cy")["comment"]
    expect(widget(page).get_by_role("button", name="1 new comment — show")).to_be_visible()
    comments = live_server.services.comments
    comments.set_state(comment["id"], CommentState.PENDING)  # taken down: news.js
    comments.set_state(comment["id"], CommentState.APPROVED)  # the comment, again
    page.wait_for_function("window.__events.length >= 3")
    page.wait_for_timeout(2500)  # news.js has come, and what it does is done
    show = widget(page).get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible()
    show.click()
    expect(widget(page).locator(f"#comment-{comment['id']} .body").first).to_have_text(
        "Held by readers' flags, then approved.")


def test_a_discussion_an_editor_closes_loses_its_form_at_once(
    discussion: Discussion, page: Any, live_server: Any
) -> None:
    """A reader half-way through a comment learns that the discussion closed before
    sending it (not from a refusal after), and the Reply buttons go too; reopened, they
    come back, with what the reader was writing still in the form."""
    from rostra.services import thread_closing

    first = discussion.post("Before the court's order.")["comment"]
    page.goto(discussion.url(head=TRACK))
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    fetches = newest_fetches(page)
    form = widget(page).locator(".fs form")
    form.get_by_label("Comment").fill("I was about to say")
    reply = widget(page).locator(f"#comment-{first['id']}").get_by_role("button", name="Reply")
    expect(reply).to_be_visible()
    thread_id = thread_closing.thread_id_of(live_server.services.db, discussion.site,
                                            discussion.thread)
    thread_closing.set_closed(live_server.services.db, thread_id, True, actor="editor")
    expect(form).to_be_hidden()
    expect(reply).to_be_hidden()
    expect(widget(page).locator("div.sr[role=status]")).to_have_text(
        "Comments are closed for this article.")
    thread_closing.set_closed(live_server.services.db, thread_id, False, actor="editor")
    expect(form).to_be_visible()
    expect(reply).to_be_visible()
    expect(form.get_by_label("Comment")).to_have_value("I was about to say")
    assert fetches == []  # the events said it all


def test_a_comment_an_editor_pins_is_marked_in_place(
    discussion: Discussion, page: Any, live_server: Any
) -> None:
    from rostra.services.moderation import ModerationService
    from rostra.services.workspace import PinKind, Workspace

    first = discussion.post("Worth reading.")["comment"]
    page.goto(discussion.url(head=TRACK))
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    fetches = newest_fetches(page)
    badge = widget(page).locator(f"#comment-{first['id']} .badge")
    expect(badge).to_have_text("")
    work = Workspace(live_server.services, ModerationService(live_server.services.comments))
    work.pin(first["id"], PinKind.PINNED, actor="editor")
    expect(badge).to_have_text("Pinned")
    work.pin(first["id"], PinKind.FEATURED, actor="editor")
    expect(badge).to_have_text("Editors' pick")
    work.pin(first["id"], None, actor="editor")
    expect(badge).to_have_text("")
    assert fetches == []  # the events said it all


def test_a_late_answer_to_a_fetch_does_not_take_back_a_comment_the_stream_brought(
    discussion: Discussion, page: Any
) -> None:
    # A fetch of the newest comments (after a bare "changed") answered after a comment
    # came in the live stream, but read before it was posted: its page lacks the comment,
    # and offering that page's news in place of what was offered hid the button (seen
    # once in a full run, under load).
    page.goto(discussion.url(head=TRACK))
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route(lambda url: "/api/comments?" in url and "sort=newest" in url, hold)
    # A bare "changed": the page fetches the newest comments (answered late, below).
    page.evaluate("window.__streams[0].dispatchEvent(new MessageEvent('changed', "
                  "{data: JSON.stringify({thread: 'x'})}))")
    for _ in range(100):  # within its spread of 0.8-4.8 s
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the page did not fetch"
    answer = held[0].fetch()  # the page as it was before the comment
    discussion.post("Posted while the fetch was on its way.")
    show = widget(page).get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible()
    with page.expect_request_finished(lambda r: "sort=newest" in r.url):
        held[0].fulfill(response=answer)
    page.evaluate("new Promise((done) => setTimeout(done, 100))")  # its answer handled
    expect(show).to_be_visible()
    show.click()
    expect(widget(page).locator("h2")).to_have_text("1 comment")


def test_the_offer_of_new_comments_is_not_said_again_when_it_has_not_changed(
    discussion: Discussion, page: Any
) -> None:
    # "N new comments — show" is in a live region: each write of its text may make a
    # screen reader say it again. A fetch after a bare "changed" that finds the same
    # comments offered must leave it alone.
    page.goto(discussion.url(head=TRACK))
    expect(widget(page).locator("h2")).to_have_text("0 comments")
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    discussion.post("Offered once.")
    show = widget(page).get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible()
    page.evaluate("""() => {
      const el = document.querySelector("rostra-comments");
      window.__offer = el.fresh;
      window.__said = [];
      new MutationObserver((records) => window.__said.push(...records.map((r) => r.type)))
        .observe(el.shadowRoot.querySelector(".fresh"),
                 {subtree: true, childList: true, characterData: true, attributes: true});
    }""")
    page.evaluate("window.__streams[0].dispatchEvent(new MessageEvent('changed', "
                  "{data: JSON.stringify({thread: 'x'})}))")
    # the fetch it leads to (in 0.8-4.8 s) offers the same comment again
    page.wait_for_function("document.querySelector('rostra-comments').fresh !== window.__offer",
                           timeout=15_000)
    page.evaluate("new Promise((done) => setTimeout(done))")  # the observer's records delivered
    assert page.evaluate("window.__said") == []
    expect(show).to_be_visible()


def test_showing_new_comments_the_page_has_already_keeps_the_focus_in_the_widget(
    discussion: Discussion, page: Any
) -> None:
    # The comment offered as new came in another way meanwhile ("Load more comments"
    # reached it, oldest first): "show" adds nothing, and hid the focused button,
    # dropping the keyboard focus to the page's body.
    for i in range(21):
        discussion.post(f"Comment {i}")
    page.goto(discussion.url(head=TRACK, attrs='sort="oldest"'))
    expect(widget(page).locator("ol.list > li")).to_have_count(20)
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    late = discussion.post("Posted while the reader reads.")["comment"]["id"]
    show = widget(page).get_by_role("button", name="1 new comment — show")
    expect(show).to_be_visible()
    widget(page).get_by_role("button", name="Load more comments").click()
    expect(comment(page, late)).to_be_visible()
    show.focus()
    page.keyboard.press("Enter")
    expect(show).to_be_hidden()
    expect(comment(page, late).locator("article")).to_be_focused()
    expect(widget(page).locator("ol.list > li")).to_have_count(22)
