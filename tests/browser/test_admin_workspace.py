"""The moderators' workspace in Chromium: sign in, work the queue with the keyboard,
bulk approve, ban, undo, change a setting and see it on the public API, read the audit
log; an axe-core audit of the main pages; another site's queue stays closed."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from tests.admin.conftest import PASSWORD, Newsroom, _member
from tests.conftest import ORIGIN, LiveServer
from widget_page import expect

from rostra.store.tables import comments

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def room(live_server: LiveServer) -> Iterator[Newsroom]:
    tag = secrets.token_hex(4)
    policy = {"mode": "all", "toxicity": False, "rate_limits": {"post_author": ""}}
    site_a = live_server.add_site(f"ba{tag}", [ORIGIN], moderation=policy)
    site_b = live_server.add_site(f"bb{tag}", [ORIGIN], moderation=policy)
    newsroom = Newsroom(
        server=live_server, site_a=site_a, site_b=site_b,
        admin=_member(live_server, f"badmin-{tag}", admin=True),
        owner=_member(live_server, f"bowner-{tag}", roles={site_a: "owner"}),
        moderator=_member(live_server, f"bmod-{tag}", roles={site_a: "moderator"}),
        outsider=_member(live_server, f"bout-{tag}", roles={site_b: "moderator"}),
        readers={},
    )
    yield newsroom
    for member in (newsroom.admin, newsroom.owner, newsroom.moderator, newsroom.outsider):
        member.http.close()
    for reader in newsroom.readers.values():
        reader.http.close()


def sign_in(page: Any, room: Newsroom, name: str) -> None:
    page.goto(room.server.url + "/admin/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()


def state_of(room: Newsroom, comment_id: int) -> str:
    service = room.server.app.app.state.moderation.service
    return str(service.comment(comment_id)["state"])


def item(page: Any, comment_id: int) -> Any:
    return page.locator(f"article#c-{comment_id}")


def audit(page: Any, axe_source: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        """async () => {
             const r = await axe.run(document, {resultTypes: ['violations']});
             return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => ({id: v.id, help: v.help,
                           targets: v.nodes.map(n => JSON.stringify(n.target))}));
           }"""
    )
    return list(result)


def test_it_works_the_queue_with_the_keyboard(room: Newsroom, page: Any) -> None:
    first, second, third, fourth = (room.held(f"Comment {n}", name=n, thread="/story/kb")
                                    for n in ("Ann", "Bob", "Cyd", "Dee"))
    sign_in(page, room, room.moderator.name)
    page.goto(room.server.url + "/admin/queue?order=oldest")
    page.keyboard.press("j")
    expect(item(page, first)).to_have_class("item current")
    page.keyboard.press("a")
    expect(item(page, first).locator(".done-status")).to_have_text("Approved.")
    expect(page.locator("#notice-text")).to_have_text(f"Approved comment {first}.")
    # The cursor stays on what was acted on: the next j is the next comment, not the one
    # after it (moving on by itself made a moderator act on the wrong comment).
    done_current = re.compile(r"^(?=.*\bdone\b)(?=.*\bcurrent\b)")
    expect(item(page, first)).to_have_class(done_current)
    expect(item(page, second)).to_have_class("item")
    page.keyboard.press("j")
    expect(item(page, second)).to_have_class("item current")
    page.keyboard.press("r")
    expect(item(page, second).locator(".done-status")).to_have_text("Rejected.")
    expect(item(page, second)).to_have_class(done_current)
    page.keyboard.press("k")
    expect(item(page, first)).to_have_class(done_current)
    assert state_of(room, first) == "approved" and state_of(room, second) == "rejected"
    public = room.reader("Visitor").page("/story/kb")
    assert [c["id"] for c in public["comments"]] == [first]

    page.keyboard.press("u")  # undo the last action: the rejection
    # The queue reloads as the server has it then; selecting before that reload lands
    # selects on the page about to go (a slow run did, and approved nothing).
    page.wait_for_url(re.compile(r"[?&]done=undo"))
    expect(item(page, second)).to_be_visible()
    expect(item(page, second).locator(".state")).to_have_text("pending")
    # (The reload carries the server's signature of these words: unsigned, none show.)
    expect(page.locator("#notice-text")).to_have_text(
        "Undid the last action: reject of 1 comment")
    # The page may redraw before the undo's answer lands: wait for the database.
    deadline = time.monotonic() + 15
    while state_of(room, second) != "pending":
        assert time.monotonic() < deadline, "the undo never reached the database"
        time.sleep(0.05)

    # Bulk: select all that are left and approve them.
    page.get_by_label("Select all").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.locator("#notice-text")).to_have_text("Approved 3 comments.")
    assert {state_of(room, c) for c in (second, third, fourth)} == {"approved"}
    expect(page.get_by_text("Nothing here. Well done.")).to_be_visible()

    page.get_by_role("link", name="Audit log").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows.first).to_be_visible()
    actions = rows.evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert actions.count("approve") == 4 and "reject" in actions and "undo" in actions
    page.get_by_label("Action").select_option("reject")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-target", f"comment:{second}")


def test_it_bans_an_author_and_undoes_it(room: Newsroom, page: Any) -> None:
    troll = room.held("Nasty words", name="Troll", email="troll@example.org",
                      thread="/story/ban")
    sign_in(page, room, room.moderator.name)
    item(page, troll).get_by_role("link", name="Ban…").click()
    page.get_by_label("By", exact=True).select_option("email")
    page.get_by_label("For", exact=True).select_option("30d")
    page.get_by_label("Reason").last.fill("personal attacks")
    page.get_by_role("button", name="Ban", exact=True).click()
    expect(page.get_by_text("banned now")).to_be_visible()
    refused = room.reader("Troll").post("/story/ban", "I am back", email="troll@example.org")
    assert refused.status_code == 422
    page.get_by_role("link", name="Queue", exact=True).click()
    page.get_by_role("button", name="Undo last action").click()
    expect(page.locator("#notice-text")).to_contain_text("Undid the last action: ban")
    again = room.reader("Troll").post("/story/ban", "I am back", email="troll@example.org")
    assert again.status_code == 201
    entries = room.moderator.get("/admin/audit.json", site=room.site_a).json()["entries"]
    assert [e["action"] for e in entries[:2]] == ["unban", "ban"]


def test_it_changes_a_setting_that_the_public_api_follows(room: Newsroom, page: Any) -> None:
    reader = room.reader("Nina")
    assert reader.post("/story/s", "Before").json()["comment"]["state"] == "pending"
    sign_in(page, room, room.owner.name)
    page.goto(room.server.url + f"/admin/sites/{room.site_a}/settings")
    page.get_by_label("Policy").select_option("post")
    page.get_by_label("Hold when abuse is at least").fill("2")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("toxicity_hold")
    page.get_by_label("Hold when abuse is at least").fill("0.8")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert reader.post("/story/s", "After").json()["comment"]["state"] == "approved"


def test_it_keeps_another_sites_queue_closed(room: Newsroom, page: Any) -> None:
    theirs = room.held("Only for site A's moderators")
    mine = room.held("For site B", site=room.site_b)
    sign_in(page, room, room.outsider.name)
    expect(item(page, mine)).to_be_visible()
    expect(item(page, theirs)).to_have_count(0)
    options = page.get_by_label("Site").locator("option").evaluate_all(
        "options => options.map(o => o.value)")
    assert options == ["", room.site_b]
    response = page.goto(room.server.url + f"/admin/queue?site={room.site_a}")
    assert response.status == 403
    expect(page.get_by_text("you are not moderator")).to_be_visible()
    response = page.goto(room.server.url + f"/admin/comments/{theirs}")
    assert response.status == 403
    response = page.goto(room.server.url + f"/admin/sites/{room.site_a}")
    assert response.status == 403


@pytest.fixture
def lenient_page(chromium: Any) -> Iterator[Any]:
    """A page that lets axe-core in despite the workspace's Content-Security-Policy."""
    context = chromium.new_context(viewport={"width": 1000, "height": 900}, locale="en-US",
                                   bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def test_it_passes_an_axe_audit_of_the_main_pages(room: Newsroom, lenient_page: Any,
                                                  axe_source: str) -> None:
    page = lenient_page
    parent = room.held("A **first** comment with a [link](https://example.org/)", name="Ida")
    room.moderator.post("/admin/act", {"action": "approve", "id": [parent]})
    reply = room.held("A reply that waits", name="Jo", parent_id=parent)
    room.moderator.post(f"/admin/act?only={reply}", {"action": "featured"})
    page.goto(room.server.url + "/admin/login")
    assert audit(page, axe_source) == [], "login"
    sign_in(page, room, room.owner.name)
    for path in ("/admin/queue", f"/admin/comments/{reply}", f"/admin/sites/{room.site_a}",
                 f"/admin/sites/{room.site_a}/settings", "/admin/audit", "/admin/sites",
                 f"/admin/sites/{room.site_a}/staff", "/admin/account"):
        page.goto(room.server.url + path)
        assert audit(page, axe_source) == [], path


def _a_fortnight_of_comments(room: Newsroom) -> None:
    """A realistic fortnight on site A: real checks hold some comments for real reasons;
    posting times are then spread over the last 14 days."""
    sites = room.server.services.sites
    sites.update(room.site_a, name="Daily Courier", settings={"moderation": {
        "mode": "post", "toxicity": False, "rate_limits": {"post_author": ""},
        "suspect_words": ["idiots", "scam"], "thresholds": {"max_links": 1}}})
    stories = [("/2024/05/council-budget", "Council votes on the budget"),
               ("/2024/05/river-floods", "The river floods again"),
               ("/2024/05/new-stadium", "A new stadium for the city"),
               ("/2024/05/school-meals", "Free school meals from September")]
    texts = ["I think the council got this one wrong; nobody asked the residents.",
             "Great reporting, thank you.",
             "Cheap watches at http://spam.example and http://spam.example/2",
             "You are all idiots and should be ashamed",
             "WHY DOES NOBODY EVER LISTEN TO THE PEOPLE WHO LIVE HERE",
             "The numbers in the third paragraph do not add up.",
             "My street was under water for two days.",
             "This is a scam, follow the money"]
    ids = []
    for n in range(36):
        thread, title = stories[n % 7 % 4]
        ids.append(room.held(texts[n % len(texts)], name=f"Reader{n % 9}", thread=thread,
                             title=title))
    service = room.server.app.app.state.moderation.service
    for n, comment_id in enumerate(ids):
        state = service.comment(comment_id)["state"]
        if state == "pending" and n < 24:
            action = "approve" if n % 3 else "reject"
            room.moderator.post(f"/admin/act?only={comment_id}", {"action": action})
    now = datetime.now(UTC)
    with room.server.services.db.write() as conn:
        for n, comment_id in enumerate(ids):
            when = now - timedelta(days=(n * 5) % 14, hours=n % 5, minutes=n)
            conn.execute(update(comments).where(comments.c.id == comment_id)
                         .values(created_at=when))
    sites.update(room.site_a, settings={"moderation": {
        "mode": "all", "toxicity": False, "rate_limits": {"post_author": ""}}})
    approved = [i for i in ids if service.comment(i)["state"] == "approved"]
    room.held("Me too, my cellar is still wet.", name="Sven", thread=stories[1][0],
              parent_id=approved[1] if stories[1][0] in service.comment(approved[1])[
                  "thread"]["key"] else None)
    room.held("Does anyone know when the bridge reopens?", name="Tove",
              thread=stories[1][0])
    room.held("The stadium will be empty most of the year. Who pays for the upkeep?",
              name="Ulf", thread=stories[2][0], email="ulf@example.org")


def test_it_fits_a_phone_and_makes_screenshots(room: Newsroom, chromium: Any) -> None:
    """The queue and the dashboard fit a phone; with ROSTRA_SCREENSHOTS=1 they are also
    saved under docs/screenshots/ for the README."""
    _a_fortnight_of_comments(room)
    shots = os.environ.get("ROSTRA_SCREENSHOTS") == "1"
    for width, height, suffix in ((1100, 1000, ""), (390, 844, "-phone")):
        context = chromium.new_context(viewport={"width": width, "height": height},
                                       locale="en-US")
        try:
            page = context.new_page()
            sign_in(page, room, room.admin.name)
            page.goto(room.server.url + f"/admin/queue?site={room.site_a}")
            page.keyboard.press("j")
            page.keyboard.press("j")
            for path in (f"/admin/queue?site={room.site_a}", f"/admin/sites/{room.site_a}"):
                page.goto(room.server.url + path)
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= width, f"{path} scrolls sideways at {width}px"
            if shots:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.goto(room.server.url + f"/admin/queue?site={room.site_a}")
                page.keyboard.press("j")
                page.keyboard.press("j")
                page.screenshot(path=str(SCREENSHOTS / f"admin-queue{suffix}.png"))
                page.goto(room.server.url + f"/admin/sites/{room.site_a}?days=14")
                page.screenshot(path=str(SCREENSHOTS / f"admin-dashboard{suffix}.png"),
                                full_page=suffix == "")
        finally:
            context.close()
