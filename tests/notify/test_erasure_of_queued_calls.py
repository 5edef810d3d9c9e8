"""An erasure on request (`rostra privacy forget`) stops what the outbox still holds of
the person. A webhook's body is written when its call is queued: the receiver was down,
Ana posted, her data was erased, and the next retry sent her name and words all the
same; calls sent before kept them in the outbox for good. Now the calls and messages
still waiting about her comments go, and the bodies of those sent are blanked."""

from __future__ import annotations

import json
import secrets

import httpx
from click.testing import CliRunner
from sqlalchemy import select

from rostra.cli import main
from rostra.store.notify_tables import notify_outbox
from tests.notify.conftest import NotifyServer, Receiver, payload
from tests.notify.test_webhooks import run, site_calling


def test_an_erasure_drops_queued_webhook_calls_and_blanks_sent_ones(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    site = site_calling(notify, http, receiver)
    email = f"ana-{secrets.token_hex(4)}@example.org"
    ana = notify.reader(http, site, "Ana Secretname")
    sent = ana.post("/erased/", "Words that went out", email=email).json()["comment"]["id"]
    assert run(notify) == 1
    assert payload(receiver.calls[0])["comment"]["text"] == "Words that went out"
    # The receiver goes down; the next call waits to be tried again.
    receiver.statuses = [503]
    waiting = ana.post("/erased/", "My very private words", email=email).json()["comment"]["id"]
    assert run(notify) == 1
    assert [c["status"] for c in receiver.calls] == [200, 503]

    done = CliRunner().invoke(main, ["--database-url", notify.live.settings.database_url,
                                     "privacy", "forget", email, "--yes"])
    assert done.exit_code == 0, done.output
    before = len(receiver.calls)
    while run(notify, 600):  # the receiver is back; every retry is due
        pass

    # Nothing of hers goes out after the erasure: only calls saying a comment was
    # deleted (tests/notify/test_erasure_tells_webhooks.py), without her name or words.
    for call in receiver.calls[before:]:
        body = payload(call)
        assert body["event"] == "comment.deleted", body
        assert body["comment"]["author"] == {"name": None, "website": None}
        assert (body["comment"]["text"], body["comment"]["html"]) == ("", "")
    with notify.live.services.db.read() as conn:
        rows = conn.execute(select(notify_outbox).where(
            notify_outbox.c.comment_id.in_([sent, waiting]))).all()
    kept = json.dumps([r.payload for r in rows])
    assert "Secretname" not in kept and "Words that went out" not in kept
    assert "private words" not in kept
    assert all(r.sent_at is not None for r in rows), "nothing about her waits to go out"
