"""A site's activity for the dashboard: comments per day, share held and why, time to
moderation, top threads. Plain numbers (the page draws them, /stats.json serves them)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func, select

from rostra.store.db import Database
from rostra.store.moderation_tables import audit_log
from rostra.store.tables import comments, threads

DECISIONS = ("approve", "reject", "spam", "delete")
MAX_ROWS = 50_000  # bounds the Python-side work on a very busy site


@dataclass
class SiteStats:
    site: str
    days: int
    since: str
    per_day: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    held: int = 0
    held_share: float = 0.0
    held_reasons: list[dict[str, Any]] = field(default_factory=list)
    decisions: int = 0
    median_seconds_to_decision: float | None = None
    top_threads: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _day_expr(conn: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", comments.c.created_at))
    return func.date(comments.c.created_at)  # stored as UTC text on SQLite


def site_stats(db: Database, site_id: str, days: int = 30) -> SiteStats:
    """Numbers for the last ``days`` days (today included) of ``site_id``."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), UTC)
    stats = SiteStats(site=site_id, days=days, since=first.isoformat())
    in_site = (comments.c.thread_id.in_(select(threads.c.id).where(threads.c.site_id == site_id)),
               comments.c.created_at >= since)
    with db.read() as conn:
        day = _day_expr(conn)
        held_expr = cast(comments.c.moderation, Text).like('%"action": "hold"%')
        spam_expr = cast(comments.c.moderation, Text).like('%"action": "spam"%')
        rows = conn.execute(
            select(day.label("day"), comments.c.state, func.count().label("n"))
            .where(*in_site).group_by(day, comments.c.state)
        ).all()
        by_day: dict[str, Counter[str]] = {}
        for row in rows:
            key = row.day.isoformat() if isinstance(row.day, date) else str(row.day)[:10]
            by_day.setdefault(key, Counter())[row.state] += row.n
        for i in range(days):
            d = (first + timedelta(days=i)).isoformat()
            counts = by_day.get(d, Counter())
            stats.per_day.append({"date": d, "total": sum(counts.values()),
                                  **{s: counts.get(s, 0) for s in
                                     ("approved", "pending", "spam", "rejected", "deleted")}})
        stats.total = sum(d["total"] for d in stats.per_day)
        reasons: Counter[str] = Counter()
        held_rows = conn.execute(
            select(comments.c.moderation).where(*in_site, held_expr | spam_expr).limit(MAX_ROWS)
        ).all()
        stats.held = len(held_rows)
        for (moderation,) in held_rows:
            codes = {str(r.get("code")) for r in (moderation or {}).get("reasons") or []}
            reasons.update(codes or {"policy"})
        stats.held_share = stats.held / stats.total if stats.total else 0.0
        stats.held_reasons = [{"reason": k, "count": v} for k, v in reasons.most_common(10)]
        stats.median_seconds_to_decision, stats.decisions = _time_to_decision(conn, site_id, since)
        top = conn.execute(
            select(threads.c.id, threads.c.key, threads.c.title, threads.c.url,
                   func.count().label("n"))
            .join(comments, comments.c.thread_id == threads.c.id)
            .where(threads.c.site_id == site_id, comments.c.created_at >= since)
            .group_by(threads.c.id, threads.c.key, threads.c.title, threads.c.url)
            .order_by(func.count().desc(), threads.c.id.asc()).limit(10)
        ).all()
        stats.top_threads = [{"id": t.id, "key": t.key, "title": t.title, "url": t.url,
                              "comments": t.n} for t in top]
    return stats


def _time_to_decision(conn: Any, site_id: str, since: datetime) -> tuple[float | None, int]:
    """Median seconds from a comment's posting to a moderator's first decision on it."""
    rows = conn.execute(
        select(audit_log.c.target, func.min(audit_log.c.created_at).label("at"))
        .where(audit_log.c.site_id == site_id, audit_log.c.created_at >= since,
               audit_log.c.action.in_(DECISIONS), audit_log.c.target.like("comment:%"))
        .group_by(audit_log.c.target).limit(MAX_ROWS)
    ).all()
    decided = {int(r.target.split(":", 1)[1]): r.at for r in rows
               if r.target.split(":", 1)[1].isdigit()}
    if not decided:
        return None, 0
    waits: list[float] = []
    ids = list(decided)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for cid, created in conn.execute(
            select(comments.c.id, comments.c.created_at).where(comments.c.id.in_(chunk))
        ).all():
            at = decided[cid]
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            waits.append(max(0.0, (at - created).total_seconds()))
    return (statistics.median(waits) if waits else None), len(waits)
