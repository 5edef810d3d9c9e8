"""Moderator alerts: held and flagged comments, by email to the site's moderators.

``comment_held`` and ``comment_flagged`` write outbox rows inside the caller's
transaction, so an alert exists exactly when the change that caused it does.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from rostra.core.errors import InvalidInput
from rostra.notify import outbox
from rostra.notify.model import Channel, MessageKind
from rostra.notify.site_settings import NotifySettings, parse_notify_settings
from rostra.store.moderation_tables import flags
from rostra.store.notify_tables import notify_outbox
from rostra.store.tables import comments, sites, threads

log = logging.getLogger("rostra.notify")

HELD = "held"
FLAGGED = "flagged"
# How far back the admin shows alerts that could not be delivered.
FAILURES_SHOWN = timedelta(days=14)


def site_notify_settings(conn: Connection, site_id: str) -> NotifySettings:
    """The site's ``notifications`` section; defaults (no alerts) when it is unusable."""
    stored = conn.execute(select(sites.c.settings).where(sites.c.id == site_id)).scalar()
    section = (stored or {}).get("notifications") if isinstance(stored, dict) else None
    try:
        return parse_notify_settings(section)
    except InvalidInput as exc:
        log.warning("site %s: ignoring invalid notifications settings: %s", site_id, exc.detail)
        return NotifySettings()


def _alert(conn: Connection, comment_id: int, reason: str, detail: str | None) -> int:
    row = conn.execute(
        select(comments.c.id, comments.c.thread_id, threads.c.site_id)
        .join(threads, threads.c.id == comments.c.thread_id)
        .where(comments.c.id == comment_id)
    ).first()
    if row is None:
        return 0
    settings = site_notify_settings(conn, row.site_id)
    now = datetime.now(UTC)
    due = now + timedelta(seconds=settings.moderator_digest_seconds) if (
        settings.moderator_digest
    ) else now
    for email in settings.moderator_emails:
        outbox.enqueue(
            conn, channel=Channel.EMAIL, kind=MessageKind.MODERATOR,
            batch_key=f"moderator:{row.site_id}:{email}", recipient=email,
            payload={"reason": reason, "detail": detail}, now=now, due_at=due,
            site_id=row.site_id, thread_id=row.thread_id, comment_id=row.id,
        )
    return len(settings.moderator_emails)


def comment_held(conn: Connection, comment_id: int, detail: str | None = None) -> int:
    """Alert the site's moderators that a comment waits in the queue; returns how many
    alerts were written."""
    return _alert(conn, comment_id, HELD, detail)


def _flag_detail(reason: str | None, count: int | None) -> str | None:
    parts = [p for p in (reason, f"{count} flags" if count else None) if p]
    return "; ".join(parts)[:300] or None


def comment_flagged(
    conn: Connection, comment_id: int, *, reason: str | None = None, flags: int | None = None
) -> int:
    """Alert the site's moderators that readers flagged a comment. Call it inside the
    transaction that records the flag; ``reason`` and ``flags`` (the count so far) are
    shown in the email. Returns how many alerts were written."""
    return _alert(conn, comment_id, FLAGGED, _flag_detail(reason, flags))


def comment_held_by_flags(conn: Connection, comment_id: int) -> int:
    """Alert the site's moderators that readers' flags hid a comment (its site's
    ``flags_to_hold``), as a held comment that shows the open flags' reasons and count.
    Its flagged alert, where still unsent, is left out then (the worker lists a flagged
    comment only while it is up): one email, one item. Returns how many were written."""
    reasons = list(conn.execute(
        select(flags.c.reason)
        .where(flags.c.comment_id == comment_id, flags.c.resolved_at.is_(None))
        .order_by(flags.c.created_at, flags.c.reader)
    ).scalars())
    return _alert(conn, comment_id, HELD,
                  _flag_detail(", ".join(dict.fromkeys(reasons)) or None, len(reasons)))


def failed_alerts(conn: Connection, site_id: str) -> list[dict[str, object]]:
    """Moderator alerts of the site that could not be delivered lately, newest failure
    per address first: what the admin shows instead of silencing the address."""
    since = datetime.now(UTC) - FAILURES_SHOWN
    rows = conn.execute(
        select(notify_outbox.c.recipient, notify_outbox.c.last_error,
               notify_outbox.c.failed_at)
        .where(notify_outbox.c.site_id == site_id,
               notify_outbox.c.kind == MessageKind.MODERATOR.value,
               notify_outbox.c.failed_at > since,
               ~notify_outbox.c.last_error.startswith("dropped:"))
        .order_by(notify_outbox.c.failed_at.desc()).limit(200)
    ).all()
    seen: dict[str, dict[str, object]] = {}
    for row in rows:
        if row.recipient not in seen:
            seen[row.recipient] = {"recipient": row.recipient, "error": row.last_error or "",
                                   "failed_at": row.failed_at}
    return list(seen.values())
