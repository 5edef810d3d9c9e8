"""A person's data on request: everything stored under an email address, and erasing it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from rostra.core.models import CommentState
from rostra.services.comments import CommentEvent, CommentService
from rostra.services.moderation import record_audit
from rostra.services.serialise import iso
from rostra.store.notify_tables import notify_addresses, notify_subscriptions
from rostra.store.tables import comments, threads


class PersonalData:
    """Export and erasure of what Rostra keeps about one email address (all sites)."""

    def __init__(self, comments_service: CommentService) -> None:
        self.comments = comments_service
        self.db = comments_service.db

    def export(self, email: str) -> dict[str, Any]:
        """Every comment written with ``email`` and every subscription of it."""
        address = email.strip().lower()
        with self.db.read() as conn:
            rows = conn.execute(
                select(comments, threads.c.site_id, threads.c.key, threads.c.url)
                .join(threads, threads.c.id == comments.c.thread_id)
                .where(func.lower(comments.c.author_email) == address)
                .order_by(comments.c.created_at, comments.c.id)
            ).all()
            subscriptions = conn.execute(
                select(notify_subscriptions, notify_addresses.c.confirmed_at)
                .join(notify_addresses,
                      notify_addresses.c.id == notify_subscriptions.c.address_id)
                .where(notify_addresses.c.email == address)
                .order_by(notify_subscriptions.c.id)
            ).all()
        return {
            "email": address,
            "exported_at": iso(datetime.now(UTC)),
            "comments": [
                {"id": r.id, "site": r.site_id, "thread": r.key, "url": r.url,
                 "parent_id": r.parent_id, "state": r.state, "name": r.author_name,
                 "website": r.author_website, "text": r.text,
                 "created_at": iso(r.created_at), "edited_at": iso(r.edited_at)}
                for r in rows
            ],
            "subscriptions": [
                {"site": s.site_id, "thread": s.thread_key, "kind": s.kind,
                 "language": s.language, "confirmed_at": iso(s.confirmed_at)}
                for s in subscriptions
            ],
        }

    def forget(self, email: str, *, actor: str) -> dict[str, int]:
        """Erase the person's comments (replies to them stay, under a tombstone), their
        name, email, website and IP hash, and their subscriptions; one transaction."""
        address = email.strip().lower()
        events: list[CommentEvent] = []
        with self.db.write() as conn:
            rows = conn.execute(
                select(comments).where(func.lower(comments.c.author_email) == address)
            ).all()
            for row in rows:
                if row.state != CommentState.DELETED.value:
                    events.append(self.comments.change_state(
                        conn, row, CommentState.DELETED, actor=actor, erase=True))
            ids = [r.id for r in rows]
            for start in range(0, len(ids), 500):
                conn.execute(
                    update(comments).where(comments.c.id.in_(ids[start:start + 500])).values(
                        text="", html="", author_name=None, author_email=None,
                        author_website=None, ip_hash=None, voter_id=None, anchor=None)
                )
            # Subscriptions and queued mail go with the address (ON DELETE CASCADE).
            subscriptions = conn.scalar(
                select(func.count()).select_from(notify_subscriptions)
                .join(notify_addresses,
                      notify_addresses.c.id == notify_subscriptions.c.address_id)
                .where(notify_addresses.c.email == address)
            ) or 0
            conn.execute(delete(notify_subscriptions).where(
                notify_subscriptions.c.address_id.in_(
                    select(notify_addresses.c.id).where(notify_addresses.c.email == address))))
            conn.execute(delete(notify_addresses).where(notify_addresses.c.email == address))
            record_audit(conn, actor, "forget_person", "person",
                         None, {"comments": len(ids), "subscriptions": int(subscriptions)},
                         "erasure on request")
        self.comments._notify(events)
        return {"comments": len(ids), "subscriptions": int(subscriptions)}
