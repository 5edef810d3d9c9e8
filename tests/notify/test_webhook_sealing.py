"""Webhook secrets sealed at rest, with a real worker and receiver, on SQLite and
PostgreSQL: stored sealed, calls signed with the real secret; a secret stored plain by
an earlier version still signs; one sealed under another secret_key stops only that
webhook (a log line says which and what to do; the call is retried, not lost) until
`rostra secrets seal --previous-key-file` re-seals it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select
from standardwebhooks import Webhook

from rostra.cli import main
from rostra.core.sealing import Purpose, Sealer
from rostra.notify.webhooks import new_secret
from rostra.store.notify_tables import notify_outbox, notify_webhooks
from tests.notify.conftest import NotifyServer, Receiver
from tests.notify.test_webhooks import STAFF, run

BEFORE_KEY = "the-secret-key-before-the-operator-changed-it"


def _headers(call: dict[str, object]) -> dict[str, str]:
    headers = call["headers"]
    assert isinstance(headers, dict)
    return {k.lower(): v for k, v in headers.items()}


def _hook_row(notify: NotifyServer, site: str, url: str, secret: str) -> int:
    """A webhook as an earlier version, or a server with another secret_key, stored it."""
    with notify.live.services.db.write() as conn:
        hook_id: int = conn.execute(insert(notify_webhooks).values(
            site_id=site, url=url, secret=secret, events=["comment.created"], active=True,
            created_at=datetime.now(UTC)).returning(notify_webhooks.c.id)).scalar_one()
    return hook_id


def test_a_webhook_secret_is_stored_sealed_and_calls_are_signed_with_it(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    site = notify.new_site()
    run(notify, 600)
    added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                      json={"url": receiver.url})
    assert added.status_code == 201, added.text
    secret = added.json()["webhook"]["secret"]
    assert secret.startswith("whsec_")  # shown once, plain
    with notify.live.services.db.read() as conn:
        stored = conn.scalar(select(notify_webhooks.c.secret)
                             .where(notify_webhooks.c.id == added.json()["webhook"]["id"]))
    assert stored.startswith("sealed:v1:") and secret not in stored
    assert secret.removeprefix("whsec_") not in stored
    notify.reader(http, site, "Ben").post("/sealed-hook/", "Ping")
    assert run(notify) == 1
    [call] = receiver.calls
    Webhook(secret).verify(call["body"], _headers(call))


def test_a_plain_webhook_secret_from_before_still_signs(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    site = notify.new_site()
    run(notify, 600)
    secret = new_secret()
    _hook_row(notify, site, receiver.url, secret)
    notify.reader(http, site, "Ben").post("/plain-hook/", "Ping")
    assert run(notify) == 1
    [call] = receiver.calls
    Webhook(secret).verify(call["body"], _headers(call))


def test_a_webhook_sealed_with_another_key_waits_for_the_operator(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver,
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    site = notify.new_site()
    run(notify, 600)
    old, good = new_secret(), new_secret()
    before_id = _hook_row(notify, site, f"{receiver.url}/before",
                          Sealer(BEFORE_KEY).seal(old, Purpose.WEBHOOK))
    added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                      json={"url": f"{receiver.url}/current", "secret": good})
    assert added.status_code == 201, added.text
    notify.reader(http, site, "Ben").post("/other-key-hook/", "Ping")
    with caplog.at_level(logging.ERROR, logger="rostra.notify"):
        assert run(notify) == 2
    # The other webhook of the site is called as ever; this one is not, and says why.
    assert [c["path"] for c in receiver.calls] == ["/hook/current"]
    told = [r.getMessage() for r in caplog.records if r.name == "rostra.notify"]
    assert any(f"webhook {before_id} of site {site!r}" in m and "another secret_key" in m
               and "rostra secrets seal --previous-key-file" in m for m in told), told
    assert not any(old in m for m in told)
    with notify.live.services.db.read() as conn:
        waiting = conn.execute(select(notify_outbox)
                               .where(notify_outbox.c.webhook_id == before_id)).one()
    assert waiting.failed_at is None and waiting.sent_at is None and waiting.attempts == 1
    assert "another secret_key" in waiting.last_error

    # The operator gives the key the secret was sealed with: it is re-sealed, and the
    # call that waited goes out, signed with the webhook's own secret.
    key_file = tmp_path / "old-key"
    key_file.write_text(BEFORE_KEY + "\n", encoding="utf-8")
    sealed = CliRunner().invoke(main, [
        "--database-url", notify.live.settings.database_url, "secrets", "seal",
        "--previous-key-file", str(key_file)],
        env={"ROSTRA_SECRET_KEY": notify.live.settings.secret_key})
    assert sealed.exit_code == 0, sealed.output
    assert "webhook secrets: " in sealed.output and "re-sealed" in sealed.output
    assert run(notify, 10) == 1
    call = receiver.calls[-1]
    assert call["path"] == "/hook/before"
    Webhook(old).verify(call["body"], _headers(call))
