"""Mail queued for something that changed before the worker came: a comment removed, an
address that bounced meanwhile. Nothing is sent, and the outbox says why."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from rostra.store.notify_tables import notify_outbox
from tests.notify.conftest import ADMIN_TOKEN, NotifyServer, address
from tests.notify.test_email_flow import LATER, deliver, subscribed

STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _digests(notify: NotifyServer, mail: str) -> list[tuple[str | None, bool, bool]]:
    """(last error, sent, failed) of each digest queued for ``mail``, oldest first."""
    with notify.live.services.db.read() as conn:
        return [(r.last_error, r.sent_at is not None, r.failed_at is not None)
                for r in conn.execute(select(notify_outbox).where(
                    notify_outbox.c.recipient == mail, notify_outbox.c.kind == "digest")
                    .order_by(notify_outbox.c.id))]


def test_a_comment_removed_before_the_digest_goes_out_is_not_mailed(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/removed/", mail)
    mailed = len(notify.mailbox.to(mail))  # the confirmation
    posted = notify.reader(http, site, "Ben").post("/removed/", "Buy cheap watches here now")
    assert posted.status_code == 201, posted.text
    removed = http.post(f"/api/moderation/comments/{posted.json()['comment']['id']}/delete",
                        headers=STAFF, json={"reason": "Spam"})
    assert removed.status_code == 200, removed.text
    deliver(notify)
    assert len(notify.mailbox.to(mail)) == mailed
    assert _digests(notify, mail) == [("dropped: no approved comments left", False, True)]


def test_mail_queued_for_an_address_that_bounced_meanwhile_is_dropped(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/first/", mail)
    subscribed(notify, http, site, "/second/", mail)
    ben = notify.reader(http, site, "Ben")
    for thread in ("/first/", "/second/"):
        assert ben.post(thread, f"A new comment on {thread}").status_code == 201
    notify.mailbox.refuse[mail] = (550, "5.1.1 No such user")
    try:
        worker = notify.worker()
        at = datetime.now(UTC) + LATER
        assert notify.run(worker.run_once(max_batches=1, now=at)) == 1  # bounces
        del notify.mailbox.refuse[mail]
        deliver(notify)
    finally:
        notify.mailbox.refuse.pop(mail, None)
    first, second = _digests(notify, mail)
    assert first[1:] == (False, True) and "550" in (first[0] or "")
    assert second == ("dropped: the address bounced", False, True)
    assert [m["Subject"] for m in notify.mailbox.to(mail)
            if "confirm" not in str(m["Subject"]).lower()] == []
