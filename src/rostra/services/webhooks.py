"""Webhooks of a site: register, list, remove (the staff API's door)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select

from rostra.core.errors import InvalidInput, NotFound
from rostra.core.sealing import Purpose, Sealer
from rostra.notify.model import WebhookEvent
from rostra.notify.webhooks import check_url, is_public, new_secret, stored_secret
from rostra.services.audit_log import Audited
from rostra.services.serialise import iso
from rostra.services.sites import SiteService
from rostra.store import changes
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database, attempts
from rostra.store.notify_tables import notify_webhooks

MAX_PER_SITE = 20


@dataclass(frozen=True, slots=True)
class NewWebhook:
    url: str
    events: tuple[str, ...] = tuple(e.value for e in WebhookEvent)
    secret: str | None = None


def webhook_json(row: Any) -> dict[str, Any]:
    """A webhook as the staff API shows it, without its secret."""
    return {"id": row.id, "site": row.site_id, "url": row.url, "events": list(row.events),
            "active": row.active, "created_at": iso(row.created_at)}


def _audited_view(row: Any) -> dict[str, Any]:
    """What the audit log keeps of a webhook: where it sends and what, not its secret."""
    return {"url": row.url, "events": list(row.events)}


class WebhookRegistry:
    def __init__(self, db: Database, sites: SiteService, allow_private: bool,
                 sealer: Sealer) -> None:
        self.db = db
        self.sites = sites
        self.allow_private = allow_private
        self.sealer = sealer

    def add(self, site_id: str, new: NewWebhook, *, audited: Audited) -> dict[str, Any]:
        """Register a webhook; the answer is the only one that shows its secret, in the
        Standard Webhooks form (``whsec_…``) whatever form it was given in. Audited in
        the same transaction (its URL and events, never the secret): a webhook receives
        every comment of the site."""
        self.sites.get(site_id)
        try:
            url = check_url(new.url.strip())
        except ValueError as exc:
            raise InvalidInput(f"url: {exc}") from None
        host = urlsplit(url).hostname or ""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and not self.allow_private and not is_public(str(literal)):
            raise InvalidInput("url: private and loopback addresses are not allowed")
        known = {e.value for e in WebhookEvent}
        events = tuple(dict.fromkeys(new.events))
        if not events or not set(events) <= known:
            raise InvalidInput(f"events: a non-empty list of {', '.join(sorted(known))}")
        try:
            secret = stored_secret(new.secret) if new.secret is not None else new_secret()
        except ValueError as exc:
            raise InvalidInput(f"secret: {exc}") from None
        # Runs again after a deadlock or a connection lost before its COMMIT (not after
        # one lost at COMMIT: it would make a second webhook).
        for attempt in attempts("adding a webhook"):
            with attempt, self.db.write() as conn:
                count = len(conn.execute(select(notify_webhooks.c.id)
                                         .where(notify_webhooks.c.site_id == site_id)).all())
                if count >= MAX_PER_SITE:
                    raise InvalidInput(f"a site may have at most {MAX_PER_SITE} webhooks")
                new_id = conn.execute(
                    insert(notify_webhooks).values(
                        site_id=site_id, url=url, secret=self.sealer.seal(secret, Purpose.WEBHOOK),
                        events=list(events), active=True,
                        created_at=datetime.now(UTC),
                    ).returning(notify_webhooks.c.id)
                ).scalar_one()
                row = conn.execute(select(notify_webhooks)
                                   .where(notify_webhooks.c.id == new_id)).one()
                audited.record(conn, "webhook_added", f"webhook:{new_id}", None,
                               _audited_view(row), site_id=site_id)
                # Processes remember which sites have no webhook (rostra.services.notify_hooks)
                # and forget it on this change.
                changes.record(conn, Change(ChangeKind.SITES, site_id))
        self.sites.reload()
        return {**webhook_json(row), "secret": secret}

    def of_site(self, site_id: str) -> list[dict[str, Any]]:
        self.sites.get(site_id)
        with self.db.read() as conn:
            rows = conn.execute(select(notify_webhooks)
                                .where(notify_webhooks.c.site_id == site_id)
                                .order_by(notify_webhooks.c.id)).all()
        return [webhook_json(r) for r in rows]

    def remove(self, site_id: str, webhook_id: int, *, audited: Audited) -> None:
        """Remove a webhook; its undelivered calls go with it. Audited in the same
        transaction, with the URL and events it had."""
        which = (notify_webhooks.c.id == webhook_id, notify_webhooks.c.site_id == site_id)
        for attempt in attempts("removing a webhook"):  # (not after a lost COMMIT: 404)
            with attempt, self.db.write() as conn:
                row = conn.execute(select(notify_webhooks).where(*which)).one_or_none()
                gone = conn.execute(delete(notify_webhooks).where(*which)).rowcount
                if gone and row is not None:
                    audited.record(conn, "webhook_removed", f"webhook:{webhook_id}",
                                   _audited_view(row), None, site_id=site_id)
        if not gone:
            raise NotFound(f"no webhook {webhook_id} on site {site_id!r}")
