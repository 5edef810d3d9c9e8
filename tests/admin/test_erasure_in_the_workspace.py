"""An erasure on request (`rostra privacy forget`) leaves nothing of the person's words
in the workspace, and no staff action brings them back. A moderator had edited Ana's
comment; after the erasure the comment page still listed her original text as a
revision, the audit log kept the edit's before and after, and the moderator's Undo of the
edit wrote her words back into the erased row (an approval would then have published
them). Now the revisions go, the audit entries keep who did what and when with the text
replaced, and Undo, approval or restoring the comment is refused (409, code "erased")."""

from __future__ import annotations

import json
import secrets
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select, update

from rostra.cli import main
from rostra.store.tables import comments
from tests.admin.conftest import Newsroom, parse
from tests.admin.test_queue import _audit

JSON = {"Accept": "application/json"}


def _forget(room: Newsroom, email: str) -> None:
    url = room.server.settings.database_url
    done = CliRunner().invoke(main, ["--database-url", url, "privacy", "forget", email,
                                     "--yes"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("erased 1 comment(s)"), done.output


def _row(room: Newsroom, comment_id: int) -> Any:
    with room.server.services.db.read() as conn:
        return conn.execute(select(comments).where(comments.c.id == comment_id)).one()


def test_it_erases_an_edited_comment_from_the_workspace_and_undo_cannot_bring_it_back(
    newsroom: Newsroom,
) -> None:
    room = newsroom
    email = f"ana-{secrets.token_hex(4)}@example.org"
    words = "My landlord Mr Kowalski at 12 Elm Street never fixes the heating"
    comment_id = room.held(words, name="Ana Nowak", email=email)
    room.moderator.post("/admin/act", {"action": "approve", "id": [comment_id]})
    edited = room.moderator.post(f"/admin/comments/{comment_id}/edit",
                                 {"text": "My landlord [removed] never fixes the heating",
                                  "reason": "an address"})
    assert edited.status_code == 303, edited.text[:300]
    # What the classifier keeps when it holds a comment quotes it (the worst sentence).
    with room.server.services.db.write() as conn:
        conn.execute(update(comments).where(comments.c.id == comment_id).values(
            moderation={"action": "hold", "message": "held for review",
                        "reasons": [{"check": "toxicity", "code": "toxic",
                                     "message": "abuse 0.91", "score": 0.91}],
                        "facts": {"toxicity": 0.91, "toxicity_evidence": {
                            "class": "abusive", "words": ["kowalski"], "sentence": words}}}))
    assert words in room.moderator.get(f"/admin/comments/{comment_id}").text

    _forget(room, email)

    row = _row(room, comment_id)
    assert (row.state, row.text, row.author_name) == ("deleted", "", None)
    page = room.moderator.page(f"/admin/comments/{comment_id}")
    shown = page.text_content()
    assert "Kowalski" not in shown and "never fixes" not in shown and "Ana Nowak" not in shown
    assert page.xpath('//ol[@class="revisions"]') == []
    # The audit log still says who edited the comment, when and why; not what it said.
    entries = _audit(room, target=f"comment:{comment_id}")
    assert "Kowalski" not in json.dumps(entries) and "never fixes" not in json.dumps(entries)
    [edit] = [e for e in entries if e["action"] == "edit"]
    assert edit["actor"].startswith(room.moderator.name) and edit["reason"] == "an address"
    assert edit["before"] == {"text": "[erased]"} and edit["after"] == {"text": "[erased]"}
    assert [e["action"] for e in entries] == ["edit", "approve"]  # newest first

    # The moderator's Undo of the edit, still kept in their session, is refused.
    undone = room.moderator.post("/admin/undo", {}, headers=JSON)
    assert undone.status_code == 409, undone.text
    problem = undone.json()
    assert problem["code"] == "erased" and "erased" in problem["detail"]
    # Nor may a moderator approve it, or edit new words into it.
    approved = room.moderator.post("/admin/act", {"action": "approve", "id": [comment_id]},
                                   headers=JSON)
    assert approved.status_code == 409 and approved.json()["code"] == "erased"
    again = room.moderator.post(f"/admin/comments/{comment_id}/edit",
                                {"text": "Something else"}, headers=JSON)
    assert again.status_code == 409 and again.json()["code"] == "erased"
    row = _row(room, comment_id)
    assert (row.state, row.text, row.html, row.author_name) == ("deleted", "", "", None)
    # It keeps why it was held (the site's figures count that), and when it was erased.
    assert row.moderation["action"] == "hold" and "erased" in row.moderation
    assert [(r["check"], r["code"]) for r in row.moderation["reasons"]] == [
        ("toxicity", "toxic")]
    assert "kowalski" not in json.dumps(row.moderation).lower()
    assert _audit(room, action="undo") == []


def test_undo_of_a_decision_does_not_restore_an_erased_comment(newsroom: Newsroom) -> None:
    room = newsroom
    email = f"ana-{secrets.token_hex(4)}@example.org"
    kept = room.held("A fair point about parking", name="Ria")
    erased = room.held("Words Ana wants gone", name="Ana", email=email)
    room.moderator.post("/admin/act", {"action": "approve", "id": [kept, erased]})
    room.moderator.post("/admin/act", {"action": "delete", "id": [kept, erased]})
    _forget(room, email)
    # Undo of the deletion puts back the other comment, not the erased one.
    undone = room.moderator.post("/admin/undo", {"next": "/admin/queue"})
    assert undone.status_code == 303, undone.text[:300]
    notice = room.moderator.page(undone.headers["location"]).xpath(
        'string(//span[@id="notice-text"])')
    assert notice == ("Undid the last action: delete of 1 comment (1 erased on its "
                      "author's request, left deleted)")
    assert (_row(room, kept).state, _row(room, erased).state) == ("approved", "deleted")
    page = room.reader("Visitor").page("/story/1")
    assert [c["id"] for c in page["comments"]] == [kept]


def test_undo_of_a_decision_on_erased_comments_only_is_refused(newsroom: Newsroom) -> None:
    room = newsroom
    email = f"ana-{secrets.token_hex(4)}@example.org"
    erased = room.held("Words Ana wants gone", name="Ana", email=email)
    room.moderator.post("/admin/act", {"action": "reject", "id": [erased]})
    _forget(room, email)
    undone = room.moderator.post("/admin/undo", {}, headers=JSON)
    assert undone.status_code == 409, undone.text
    assert undone.json()["code"] == "erased"
    assert "erased" in parse(room.moderator.post("/admin/undo", {})).xpath("string(//main)")
    assert _row(room, erased).state == "deleted"
