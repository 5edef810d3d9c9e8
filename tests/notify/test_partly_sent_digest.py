"""A digest that reached some subscribers and failed for others (the SMTP server refused
mid-way) while its comment went back to the queue and was approved again: each remaining
subscriber still gets the comment, once. A real SMTP server (aiosmtpd), SQLite and
PostgreSQL."""

from __future__ import annotations

import httpx

from rostra.core.models import CommentState
from tests.notify.conftest import NotifyServer, address, parts
from tests.notify.test_email_flow import deliver, subscribed


def test_a_comment_held_and_approved_between_tries_reaches_the_rest_once(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, told, waiting = notify.new_site(), address(), address()
    subscribed(notify, http, site, "/story/", told)
    subscribed(notify, http, site, "/story/", waiting)
    before = {m: len(notify.mailbox.to(m)) for m in (told, waiting)}
    posted = notify.reader(http, site, "Ben").post("/story/", "A remark to hold again")
    assert posted.status_code == 201, posted.text
    comment_id = posted.json()["comment"]["id"]

    notify.mailbox.refuse[waiting] = (451, "4.3.0 Try again later")
    try:
        deliver(notify)  # one subscriber told; the server turns the other away for now
    finally:
        del notify.mailbox.refuse[waiting]
    assert len(notify.mailbox.to(told)) == before[told] + 1
    assert len(notify.mailbox.to(waiting)) == before[waiting]

    comments = notify.live.services.comments
    comments.set_state(comment_id, CommentState.PENDING, actor="mod")  # held again
    deliver(notify)  # the retry comes while it is held
    comments.set_state(comment_id, CommentState.APPROVED, actor="mod")
    for _ in range(3):
        deliver(notify)

    new = notify.mailbox.to(waiting)[before[waiting]:]
    assert len(new) == 1, [m["Subject"] for m in new]
    assert "A remark to hold again" in parts(new[0])[0]
    assert len(notify.mailbox.to(told)) == before[told] + 1  # told once, not again


def test_a_comment_held_between_tries_and_rejected_is_left_out(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, told, waiting = notify.new_site(), address(), address()
    subscribed(notify, http, site, "/story/", told)
    subscribed(notify, http, site, "/story/", waiting)
    before = len(notify.mailbox.to(waiting))
    posted = notify.reader(http, site, "Ben").post("/story/", "A remark to reject")
    comment_id = posted.json()["comment"]["id"]
    notify.mailbox.refuse[waiting] = (451, "4.3.0 Try again later")
    try:
        deliver(notify)
    finally:
        del notify.mailbox.refuse[waiting]
    comments = notify.live.services.comments
    comments.set_state(comment_id, CommentState.PENDING, actor="mod")
    deliver(notify)
    comments.set_state(comment_id, CommentState.REJECTED, actor="mod")
    for _ in range(2):
        deliver(notify)
    assert len(notify.mailbox.to(waiting)) == before
