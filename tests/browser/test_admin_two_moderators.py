"""Two moderators on one queue in Chromium: a comment the other decided since the page
was loaded is not decided again from the stale page. One moderator's "a" approved it and
the other's "r", a minute later on their older page, silently rejected it again (taking
it off the article, and counting the author twice); now the second is told who decided
it, and nothing changes — by key, by button, and in bulk."""

from __future__ import annotations

from typing import Any

import pytest
from test_admin_workspace import item, room, sign_in, state_of  # noqa: F401 (fixture)
from tests.admin.conftest import Newsroom
from widget_page import expect

pytestmark = pytest.mark.browser


def _audited(newsroom: Newsroom, comment_id: int) -> list[str]:
    response = newsroom.admin.get("/admin/audit.json", target=f"comment:{comment_id}")
    assert response.status_code == 200, response.text
    return [e["action"] for e in response.json()["entries"]]


def test_a_stale_page_does_not_decide_again_what_another_decided(
        room: Newsroom, page: Any, chromium: Any) -> None:  # noqa: F811 (the fixture)
    first, second, third = (room.held(f"Comment {n}", name=n, thread="/story/two")
                            for n in ("Ann", "Bob", "Cyd"))
    other = chromium.new_context(viewport={"width": 1000, "height": 900})
    try:
        theirs = other.new_page()
        sign_in(page, room, room.moderator.name)
        sign_in(theirs, room, room.owner.name)
        for p in (page, theirs):
            p.goto(room.server.url + f"/admin/queue?site={room.site_a}&order=oldest")
            expect(item(p, third)).to_be_visible()

        # They approve the first comment; on my older page I press "r" on it.
        theirs.keyboard.press("j")
        theirs.keyboard.press("a")
        expect(item(theirs, first).locator(".done-status")).to_have_text("Approved.")
        page.keyboard.press("j")
        page.keyboard.press("r")
        notice = page.locator("#notice-text")
        expect(notice).to_contain_text(f"comment {first} was approved meanwhile")
        expect(notice).to_contain_text(room.owner.name)
        assert state_of(room, first) == "approved"
        assert _audited(room, first) == ["approve"]

        # The same by a button.
        theirs.locator(f"article#c-{second} button[value=spam]").click()
        expect(item(theirs, second).locator(".done-status")).to_have_text("Marked as spam.")
        item(page, second).locator("button[value=approve]").click()
        expect(notice).to_contain_text(f"comment {second} was marked as spam meanwhile")
        assert state_of(room, second) == "spam"

        # In bulk, without the page's script: nothing changes, and the page says why.
        page.locator("#select-all").check()
        page.locator("#bulk button[value=reject]").first.click()
        expect(page.locator("main")).to_contain_text("was approved meanwhile")
        assert (state_of(room, first), state_of(room, second), state_of(room, third)) == \
            ("approved", "spam", "pending")
        assert _audited(room, third) == []
    finally:
        other.close()
