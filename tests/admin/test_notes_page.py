"""The context notes page: a moderator adds a note under a comment, sees readers'
proposals with their score, and publishes or withdraws them; other sites' staff cannot."""

from __future__ import annotations

from lxml import html as lxml_html

from rostra.services.moderation import ModerationService, StaffAction
from rostra.services.notes import NoteDraft, NoteService, NoteStatus
from tests.admin.conftest import Newsroom


def _published(room: Newsroom, text: str) -> int:
    """A comment on site A, approved (the site holds everything)."""
    comment_id = room.held(text, thread="/budget")
    ModerationService(room.server.services.comments).decide(
        comment_id, StaffAction.APPROVE, actor="setup")
    return comment_id


def _notes_under(room: Newsroom, comment_id: int) -> list[int]:
    page = room.reader("Ana").page("/budget")
    for c in page["comments"]:
        if c["id"] == comment_id:
            return [n["id"] for n in c.get("notes", [])]
    raise AssertionError(f"comment {comment_id} is not on the page")


def test_a_moderator_adds_publishes_and_withdraws_notes(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = _published(room, "The council never voted.")
    service = NoteService(room.server.services.comments)
    page = room.moderator.page(f"/admin/sites/{room.site_a}/notes")
    assert page.xpath("//h1/text()")[0].startswith("Context notes on")
    added = room.moderator.post(f"/admin/sites/{room.site_a}/notes", {
        "comment": str(comment_id), "text": "The council voted on **12 March**.",
        "sources": "https://council.example/minutes\nhttps://news.example/vote"})
    assert added.status_code == 303
    [note] = service.list_for_staff(room.site_a, comment_id=comment_id)
    assert note["status"] == "published" and note["shown"] is True
    assert note["sources"] == ["https://council.example/minutes", "https://news.example/vote"]
    assert note["staff_author"].startswith(room.moderator.name)
    assert _notes_under(room, comment_id) == [note["id"]]

    listed = room.moderator.page(f"/admin/sites/{room.site_a}/notes", status="published")
    row = listed.xpath(f'//tr[@id="note-{note["id"]}"]')[0]
    assert "<strong>12 March</strong>" in lxml_html.tostring(row, encoding="unicode")
    withdrawn = room.moderator.post(
        f"/admin/sites/{room.site_a}/notes/{note['id']}/withdraw", {"reason": "outdated"})
    assert withdrawn.status_code == 303
    assert _notes_under(room, comment_id) == []
    assert service.list_for_staff(room.site_a, comment_id=comment_id)[0]["status"] == \
        "withdrawn"

    # A note handed to the readers waits on the page; publishing it shows it.
    other = service.add_by_staff(comment_id, NoteDraft("Second note", []), actor="setup")
    service.decide(other["id"], NoteStatus.PROPOSED, actor="setup")
    waiting = room.moderator.page(f"/admin/sites/{room.site_a}/notes")
    assert waiting.xpath(f'//tr[@id="note-{other["id"]}"]/@data-status') == ["proposed"]
    assert _notes_under(room, comment_id) == []
    room.moderator.post(f"/admin/sites/{room.site_a}/notes/{other['id']}/publish", {})
    assert _notes_under(room, comment_id) == [other["id"]]


def test_another_sites_moderator_cannot_touch_the_notes(newsroom: Newsroom) -> None:
    room = newsroom
    comment_id = _published(room, "Another claim.")
    note = NoteService(room.server.services.comments).add_by_staff(
        comment_id, NoteDraft("Context", []), actor="setup")
    assert room.outsider.get(f"/admin/sites/{room.site_a}/notes").status_code == 403
    # Through their own site's pages: the comment and the note are not theirs.
    added = room.outsider.post(f"/admin/sites/{room.site_b}/notes", {
        "comment": str(comment_id), "text": "Context from elsewhere", "sources": ""})
    assert added.status_code == 422
    withdrawn = room.outsider.post(
        f"/admin/sites/{room.site_b}/notes/{note['id']}/withdraw", {})
    assert withdrawn.status_code == 422
    assert _notes_under(room, comment_id) == [note["id"]]
