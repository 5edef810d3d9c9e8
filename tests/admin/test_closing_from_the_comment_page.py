"""An editor closes the article's discussion from a comment's page in the workspace,
and opens it again; staff of another site cannot, nor can a request without the form's
CSRF token."""

from __future__ import annotations

from tests.admin.conftest import Newsroom


def test_a_moderator_closes_and_reopens_the_article_from_a_comment(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = room.held("A comment on the trial.", thread="/trial/")
    page = room.moderator.page(f"/admin/comments/{comment_id}")
    [form] = page.xpath('//form[contains(@action, "/close")]')
    assert form.xpath('.//button/text()') == ["Close comments"]
    action = form.get("action")
    done = room.moderator.post(action, {"closed": "1", "reason": "legal hold",
                                        "next": f"/admin/comments/{comment_id}"})
    assert done.status_code == 303
    page = room.moderator.page(done.headers["location"])
    assert page.xpath('//p[@class="notice"]/text()') == ["Comments are closed on this article."]
    assert page.xpath(f'//form[@action="{action}"]//button/text()') == ["Open comments again"]
    refused = room.reader("Ben").post("/trial/", "After it closed.")
    assert refused.status_code == 403 and refused.json()["code"] == "thread_closed"
    # Staff of another site, and a form without its token, change nothing.
    assert room.outsider.post(action, {"closed": "0"}).status_code == 403
    assert room.moderator.post(action, {"closed": "0"}, csrf=False).status_code == 403
    assert room.reader("Ben").post("/trial/", "Still closed.").status_code == 403
    reopened = room.moderator.post(action, {"closed": "0", "next": f"/admin/comments/{comment_id}"})
    assert reopened.status_code == 303
    assert room.reader("Ben").post("/trial/", "Open again.").status_code == 201
