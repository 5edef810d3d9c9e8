"""A comment an edit sends back to the queue before its email went out is announced
when a moderator approves it again: "once" means once, not never. A real server, a
real SMTP server, SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from rostra.core.models import CommentState
from tests.notify.conftest import NotifyServer, address, parts
from tests.notify.test_email_flow import deliver, subscribed


def test_a_comment_held_by_its_edit_before_the_email_is_announced_once_approved(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/edited/", mail)
    count = len(notify.mailbox.to(mail))
    ben = notify.reader(http, site, "Ben")
    posted = ben.post("/edited/", "First words")
    assert posted.json()["comment"]["state"] == "approved"
    comment_id = posted.json()["comment"]["id"]

    notify.holds.sites.add(site)  # the edit is held for a moderator
    edited = http.patch(f"/api/comments/{comment_id}", json={"text": "Second words"},
                        headers=ben.headers(comment_id))
    assert edited.status_code == 200, edited.text
    assert edited.json()["comment"]["state"] == "pending"
    deliver(notify)  # the batch window passes while it waits in the queue
    assert notify.mailbox.to(mail)[count:] == []

    notify.live.services.comments.set_state(comment_id, CommentState.APPROVED, actor="mod")
    deliver(notify)
    [digest] = notify.mailbox.to(mail)[count:]
    text = parts(digest)[0]
    assert "Second words" in text and "First words" not in text

    # And only once, however often it goes back and forth afterwards.
    notify.live.services.comments.set_state(comment_id, CommentState.PENDING, actor="mod")
    notify.live.services.comments.set_state(comment_id, CommentState.APPROVED, actor="mod")
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == count + 1
