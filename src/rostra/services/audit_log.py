"""The audit log: every change a person makes, with who and why (``record_audit``, inside
the change's transaction), and reading it with filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select

from rostra.core.errors import InvalidInput
from rostra.services.queue import _like
from rostra.store.db import Database
from rostra.store.moderation_tables import audit_log

PAGE_SIZE = 50


def record_audit(
    conn: Connection, actor: str, action: str, target: str, before: Any, after: Any,
    reason: str | None, *, site_id: str | None = None,
) -> None:
    """Append one entry to the audit log, inside the caller's transaction.

    ``target`` is "<kind>:<id>" (comment:12, ban:3); ``before``/``after`` are JSON-able
    snapshots of what changed (or None).
    """
    conn.execute(
        insert(audit_log).values(
            site_id=site_id, actor=actor[:200], action=action[:40], target=target[:200],
            before=before, after=after, reason=reason, created_at=datetime.now(UTC),
        )
    )


@dataclass(frozen=True, slots=True)
class Audited:
    """Who makes a change through a service that audits it in the change's own
    transaction: the change and its entry commit together, or neither does."""

    actor: str

    def record(self, conn: Connection, action: str, target: str, before: Any, after: Any,
               *, site_id: str | None) -> None:
        record_audit(conn, self.actor, action, target, before, after, None, site_id=site_id)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    sites: tuple[str, ...]
    actor: str = ""
    action: str = ""
    target: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1
    # Entries about no site (staff accounts): shown to administrators.
    global_entries: bool = False

    @classmethod
    def parse(cls, params: dict[str, str], sites: tuple[str, ...]) -> AuditFilter:
        def day(name: str) -> date | None:
            value = params.get(name, "").strip()
            try:
                return date.fromisoformat(value) if value else None
            except ValueError:
                raise InvalidInput(f"{name}: a date such as 2024-05-31") from None

        try:
            page = max(1, min(10_000, int(params.get("page") or 1)))
        except ValueError:
            raise InvalidInput("page: a whole number") from None
        return cls(sites=sites, actor=params.get("actor", "").strip()[:200],
                   action=params.get("action", "").strip()[:40],
                   target=params.get("target", "").strip()[:200],
                   since=day("since"), until=day("until"), page=page)


def _where(f: AuditFilter) -> list[Any]:
    a = audit_log.c
    in_scope = a.site_id.in_(f.sites)
    where: list[Any] = [or_(in_scope, a.site_id.is_(None)) if f.global_entries else in_scope]
    if f.actor:
        where.append(a.actor.ilike(_like(f.actor), escape="!"))
    if f.action:
        where.append(a.action == f.action)
    if f.target:
        where.append(a.target == f.target)
    if f.since:
        where.append(a.created_at >= datetime.combine(f.since, datetime.min.time(), UTC))
    if f.until:
        where.append(a.created_at < datetime.combine(f.until + timedelta(days=1),
                                                      datetime.min.time(), UTC))
    return where


def entries(db: Database, f: AuditFilter) -> tuple[list[dict[str, Any]], int]:
    """A page of matching entries, newest first, and how many match in all."""
    if not f.sites and not f.global_entries:
        return [], 0
    with db.read() as conn:
        total = int(conn.scalar(select(func.count()).select_from(audit_log)
                                .where(*_where(f))) or 0)
        rows = conn.execute(select(audit_log).where(*_where(f))
                            .order_by(audit_log.c.id.desc()).limit(PAGE_SIZE)
                            .offset((f.page - 1) * PAGE_SIZE)).all()
    out = [{"id": r.id, "site": r.site_id, "actor": r.actor, "action": r.action,
            "target": r.target, "before": r.before, "after": r.after, "reason": r.reason,
            "created_at": r.created_at} for r in rows]
    return out, total


def known_actions(db: Database, sites: tuple[str, ...]) -> list[str]:
    if not sites:
        return []
    with db.read() as conn:
        return [str(r[0]) for r in conn.execute(
            select(audit_log.c.action).where(audit_log.c.site_id.in_(sites)).distinct()
            .order_by(audit_log.c.action)).all()]
