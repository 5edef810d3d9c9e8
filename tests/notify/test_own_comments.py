"""A subscriber is never told of their own comments, even one posted without an email:
the comment is theirs when it comes from the same browser (voter id) or account as the
comment the subscription follows, or as the request that made the subscription."""

from __future__ import annotations

import httpx

from tests.notify.conftest import NotifyServer, address, parts
from tests.notify.test_email_flow import deliver, subscribed


def test_an_author_following_a_comment_is_not_told_of_her_own_reply(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    ana, ben = notify.reader(http, site, "Ana"), notify.reader(http, site, "Ben")
    x = ana.post("/own/", "My first comment").json()["comment"]["id"]  # no email
    subscribed(notify, http, site, "/own/", mail, "replies", comment_id=x,
               headers={"X-Rostra-Edit-Token": ana.tokens[x]})
    count = len(notify.mailbox.to(mail))
    assert ana.post("/own/", "Adding to my own comment", parent_id=x).status_code == 201
    deliver(notify)
    assert notify.mailbox.to(mail)[count:] == []

    assert ben.post("/own/", "Ben answers", parent_id=x).status_code == 201
    deliver(notify)
    [digest] = notify.mailbox.to(mail)[count:]
    text = parts(digest)[0]
    assert "Ben replied to you" in text and "Adding to my own comment" not in text


def test_a_thread_subscriber_without_an_email_is_not_told_of_her_own_comments(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    following, plain = address(), address()
    ana, ben = notify.reader(http, site, "Ana"), notify.reader(http, site, "Ben")
    x = ana.post("/own-thread/", "First").json()["comment"]["id"]
    # Through a comment she follows, and through her browser's voter id.
    subscribed(notify, http, site, "/own-thread/", following, comment_id=x,
               headers={"X-Rostra-Edit-Token": ana.tokens[x]})
    subscribed(notify, http, site, "/own-thread/", plain, headers=ana.headers())
    counts = len(notify.mailbox.to(following)), len(notify.mailbox.to(plain))
    assert ana.post("/own-thread/", "Another of mine").status_code == 201
    deliver(notify)
    assert notify.mailbox.to(following)[counts[0]:] == []
    assert notify.mailbox.to(plain)[counts[1]:] == []

    assert ben.post("/own-thread/", "Ben's comment").status_code == 201
    deliver(notify)
    for mail, count in zip((following, plain), counts, strict=True):
        [digest] = notify.mailbox.to(mail)[count:]
        assert "Ben's comment" in parts(digest)[0]
