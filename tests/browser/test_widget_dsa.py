"""EU DSA in the widget: a reader's notice of illegal content, and the statement of
reasons (with its one appeal) that the author of a removed comment finds there."""

from __future__ import annotations

from typing import Any

import pytest
from test_widget_accessibility import audit
from widget_page import Discussion, comment, expect, widget

from rostra.services.moderation import StaffAction

pytestmark = pytest.mark.browser


def test_it_sends_a_notice_of_illegal_content(discussion: Discussion, page: Any,
                                              axe_source: str) -> None:
    bad = discussion.post("Those people should be driven out of town.", name="Troll")
    bad_id = bad["comment"]["id"]
    page.goto(discussion.url())
    item = comment(page, bad_id)
    item.get_by_role("button", name="Report").click()
    item.get_by_role("button", name="Report illegal content (EU DSA)").click()
    form = item.locator("form.dsa")
    expect(form.get_by_label("Legal ground")).to_be_focused()
    assert audit(page, axe_source) == []
    form.get_by_role("button", name="Send notice").click()
    expect(form.get_by_role("alert")).to_contain_text("Please choose a ground")
    form.get_by_label("Legal ground").select_option(label="Threats or incitement to violence")
    form.get_by_label("Why is it illegal?").fill("It incites violence against a minority.")
    form.get_by_label("I believe in good faith").check()
    with page.expect_response(lambda r: r.url.endswith(f"/api/comments/{bad_id}/notices")) as answer:
        form.get_by_role("button", name="Send notice").click()
    assert answer.value.status == 201
    expect(item.locator(".ok")).to_contain_text(f"Notice #{answer.value.json()['notice']['id']} received")
    expect(item.locator(".ok")).to_be_focused()
    expect(item.get_by_role("button", name="Report")).to_be_hidden()


def test_it_shows_the_author_why_their_comment_was_removed_and_takes_an_appeal(
    live_server: Any, discussion: Discussion, page: Any,
) -> None:
    page.goto(discussion.url(lang="de"))
    form = widget(page).locator(".fs form")
    form.get_by_label("Kommentar").fill("The mayor took bribes, everybody knows.")
    form.get_by_label("Name").fill("Kim")
    form.get_by_role("button", name="Kommentar senden").click()
    own = widget(page).locator("ol.list > li").first
    expect(own.locator(".body")).to_have_text("The mayor took bribes, everybody knows.")
    own_id = int((own.get_attribute("id") or "").removeprefix("comment-"))
    live_server.app.app.state.moderation.service.decide(
        own_id, StaffAction.REJECT, actor="Editor", reason="An accusation without a source")
    page.reload()
    panel = widget(page).locator(".sor")
    expect(panel).to_contain_text("Ein Kommentar von Ihnen wurde entfernt.")
    expect(panel).to_contain_text("An accusation without a source")
    expect(panel).to_contain_text("Ein Mensch hat diese Entscheidung getroffen.")
    panel.get_by_label("Warum sollte die Entscheidung geändert werden?").fill(
        "The court documents are public.")
    with page.expect_response(lambda r: r.url.endswith(f"/api/comments/{own_id}/appeal")) as answer:
        panel.get_by_role("button", name="Widerspruch einlegen").click()
    assert answer.value.status == 201
    expect(panel.locator(".ok")).to_have_text(
        "Widerspruch eingegangen: Eine andere Moderatorin oder ein anderer Moderator entscheidet.")
    page.reload()
    expect(widget(page).locator(".sor .ok")).to_contain_text("Widerspruch eingegangen")
    expect(widget(page).locator(".sor form")).to_have_count(0)


def test_it_shows_the_author_why_their_comment_is_held(
    live_server: Any, host_site: Any, page: Any,
) -> None:
    import secrets

    site = "wdsa-" + secrets.token_hex(4)
    live_server.add_site(site, [host_site.origin], moderation={"mode": "all"})
    held = Discussion(live_server.url.rstrip("/"), host_site, site, f"/news/{site}/story/")
    page.goto(held.url())
    form = widget(page).locator(".fs form")
    form.get_by_label("Comment").fill("Waiting for the editors, as every comment here.")
    form.get_by_label("Name").fill("Kim")
    form.get_by_role("button", name="Post comment").click()
    own = widget(page).locator("ol.list > li").first
    expect(own.locator(".body")).to_have_text("Waiting for the editors, as every comment here.")
    page.reload()
    statement = widget(page).locator("ol.list > li details.sor")
    expect(statement).to_have_count(1)
    statement.locator("summary").click()
    expect(statement).to_contain_text("Automated means took this decision.")
    expect(statement).to_contain_text("pre moderation")
    expect(statement.get_by_role("button", name="Appeal")).to_be_visible()


def test_its_statement_of_reasons_marks_the_start_side_right_to_left(
    live_server: Any, host_site: Any, page: Any,
) -> None:
    import secrets

    site = "wdsa-" + secrets.token_hex(4)
    live_server.add_site(site, [host_site.origin], moderation={"mode": "all"})
    held = Discussion(live_server.url.rstrip("/"), host_site, site, f"/news/{site}/story/")
    page.goto(held.url(lang="ar"))
    form = widget(page).locator(".fs form")
    form.locator("textarea").fill("Waiting for the editors, as every comment here.")
    form.locator('[name="name"]').fill("Kim")
    form.locator("[type=submit]").click()
    expect(widget(page).locator("ol.list > li")).to_have_count(1)
    page.reload()
    statement = widget(page).locator("ol.list > li details.sor")
    expect(statement).to_have_count(1)
    # the thick coloured edge is where the lines start: on the right in Arabic
    expect(statement).to_have_css("border-right-width", "3px")
    expect(statement).to_have_css("border-left-width", "1px")


# Puts own-comment entries into the host page's localStorage before the widget reads
# it, aged as given (in days): what a browser that posted them long ago holds.
REMEMBER = """(entries) => {
  const own = {};
  for (const [id, token, thread, days] of entries) {
    const at = Date.now() - days * 86400000;
    own[id] = {token, until: at + 900000, thread, text: "What I wrote " + id, pending: false, at};
  }
  localStorage.setItem("rostra:own", JSON.stringify(own));
}"""


def test_the_author_of_a_removed_comment_may_appeal_for_six_months(
    live_server: Any, discussion: Discussion, page: Any,
) -> None:
    """An anonymous author's proof of authorship is the edit token their browser kept;
    forgotten after 30 days, they lost the statement of reasons and the appeal the DSA
    gives them for six months. Kept about 200 days (without the comment's text after
    30), and dropped after that."""
    decide = live_server.app.app.state.moderation.service.decide
    posted = {}
    for age in (40, 250):
        answer = discussion.post(f"Written {age} days ago, removed since.", name="Kim")
        posted[age] = (answer["comment"]["id"], answer["edit_token"])
        decide(posted[age][0], StaffAction.REJECT, actor="Editor", reason=f"Off topic ({age})")
    url = discussion.url()
    page.goto(discussion.host.origin + "/nothing-here")  # the host's origin: its localStorage
    page.evaluate(REMEMBER, [[i, token, discussion.thread, age] for age, (i, token) in posted.items()])
    page.goto(url)
    panel = widget(page).locator(".sor")
    expect(panel).to_have_count(1)
    expect(panel).to_have_attribute("data-id", str(posted[40][0]))
    expect(panel).to_contain_text("Off topic (40)")
    panel.get_by_label("Why should the decision change?").fill("It was on topic, read again.")
    with page.expect_response(lambda r: r.url.endswith(f"/api/comments/{posted[40][0]}/appeal")) as answer:
        panel.get_by_role("button", name="Appeal").click()
    assert answer.value.status == 201
    kept = page.evaluate("JSON.parse(localStorage.getItem('rostra:own'))")
    assert set(kept) == {str(posted[40][0])}  # the 250-day one is forgotten
    entry = kept[str(posted[40][0])]
    assert entry["token"] == posted[40][1] and entry["thread"] == discussion.thread
    assert "text" not in entry  # the bulky part goes after 30 days
