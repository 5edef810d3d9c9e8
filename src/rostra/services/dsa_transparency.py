"""The figures of a DSA transparency report (Art. 15 and 24): notices, decisions and
complaints (authors' appeals, notifiers' complaints) made in a period, counted by ground,
outcome, source and who complained, as the admin page, the API and ``rostra report
transparency`` show them."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from rostra.core.errors import InvalidInput
from rostra.services.serialise import iso
from rostra.store.db import Database
from rostra.store.dsa_tables import dsa_notices, dsa_statements


def report(db: Database, since: datetime, until: datetime,
           site_id: str | None = None) -> dict[str, Any]:
    """The figures for notices, decisions and appeals made from ``since`` up to (not
    including) ``until``; all sites when ``site_id`` is None."""
    n, s = dsa_notices.c, dsa_statements.c
    notice_query = select(n.ground, n.status, n.outcome, n.created_at, n.decided_at,
                          n.deadline_at).where(n.created_at >= since, n.created_at < until)
    statement_query = select(s.state, s.source, s.ground_kind, s.automated_detection,
                             s.automated_decision, s.created_at).where(
        s.created_at >= since, s.created_at < until)
    appeal_query = select(s.appealed_at, s.appeal_outcome, s.appeal_decided_at).where(
        s.appealed_at >= since, s.appealed_at < until)
    # Notifiers' complaints against "no action" (Art. 20(1)) are complaints too.
    complaint_query = select(n.complained_at.label("appealed_at"),
                             n.complaint_outcome.label("appeal_outcome"),
                             n.complaint_decided_at.label("appeal_decided_at")).where(
        n.complained_at >= since, n.complained_at < until)
    if site_id is not None:
        notice_query = notice_query.where(n.site_id == site_id)
        statement_query = statement_query.where(s.site_id == site_id)
        appeal_query = appeal_query.where(s.site_id == site_id)
        complaint_query = complaint_query.where(n.site_id == site_id)
    with db.read() as conn:
        notices = conn.execute(notice_query).all()
        statements = conn.execute(statement_query).all()
        by_author = conn.execute(appeal_query).all()
        by_notifier = conn.execute(complaint_query).all()
    appeals = [*by_author, *by_notifier]
    decided = [r for r in notices if r.decided_at is not None]
    hours = [(r.decided_at - r.created_at).total_seconds() / 3600 for r in decided]
    appeal_hours = [(r.appeal_decided_at - r.appealed_at).total_seconds() / 3600
                    for r in appeals if r.appeal_decided_at is not None]
    automated = sum(1 for r in statements if r.automated_decision)
    return {
        "period": {"from": iso(since), "to": iso(until)},
        "site": site_id,
        "notices": {
            "total": len(notices),
            "by_ground": dict(sorted(Counter(r.ground for r in notices).items())),
            "by_outcome": dict(sorted(Counter(r.outcome or "open" for r in notices).items())),
            "median_hours_to_decide": _median(hours),
            "decided_after_deadline": sum(1 for r in decided if r.decided_at > r.deadline_at),
        },
        "decisions": {
            "total": len(statements),
            "by_state": dict(sorted(Counter(r.state for r in statements).items())),
            "by_source": dict(sorted(Counter(r.source for r in statements).items())),
            "by_ground_kind": dict(sorted(Counter(r.ground_kind for r in statements).items())),
            "automated_detection": sum(1 for r in statements if r.automated_detection),
            "automated_decision": automated,
            "automated_share": round(automated / len(statements), 4) if statements else None,
        },
        "appeals": {
            "total": len(appeals),
            "by_complainant": {"author": len(by_author), "notifier": len(by_notifier)},
            "by_outcome": dict(sorted(Counter(
                r.appeal_outcome or "pending" for r in appeals).items())),
            "median_hours_to_decide": _median(appeal_hours),
        },
    }


def period(since: date | None, until: date | None) -> tuple[datetime, datetime]:
    """[since 00:00, until + 1 day 00:00) in UTC; the last 30 days by default."""
    today = datetime.now(UTC).date()
    until = until or today
    since = since or until - timedelta(days=29)
    if since > until:
        raise InvalidInput("from: must not be after to")
    return (datetime.combine(since, time(), UTC),
            datetime.combine(until + timedelta(days=1), time(), UTC))


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def transparency_rows(report: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """The report flattened to (section, metric, key, value) rows, for CSV."""
    rows: list[tuple[str, str, str, Any]] = [
        ("period", "from", "", report["period"]["from"]),
        ("period", "to", "", report["period"]["to"]),
        ("period", "site", "", report["site"] or "all"),
    ]
    for section in ("notices", "decisions", "appeals"):
        for metric, value in report[section].items():
            if isinstance(value, dict):
                rows += [(section, metric, key, count) for key, count in value.items()]
            else:
                rows.append((section, metric, "", "" if value is None else value))
    return rows
