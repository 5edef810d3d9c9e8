"""Moving a site to a new domain: origins and thread URLs change, old URLs keep working."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from rostra.core.errors import InvalidInput, NotFound
from rostra.core.thread_keys import ThreadKeyError, normalise_url, origin_of
from rostra.services.sites import claim_origins, lock_origins, normalise_origin
from rostra.store import changes
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database, attempts
from rostra.store.tables import sites, threads


@dataclass(slots=True)
class MoveSummary:
    """What a move changed."""

    old_origin: str
    new_origin: str
    sites: list[str] = field(default_factory=list)
    threads_moved: int = 0


def move_site(
    db: Database,
    old_origin: str,
    new_origin: str,
    *,
    site_id: str | None = None,
    keep_old_origin: bool = False,
) -> MoveSummary:
    """Point every site allowing ``old_origin`` (or just ``site_id``) at ``new_origin``,
    in one transaction. Threads whose URL was on the old origin get the new URL; their
    keys (path and query) stay, so old links still resolve. The sites and threads are
    recorded as changed: where ``db`` has the change bus installed, every server takes
    the new origin at once."""
    old, new = normalise_origin(old_origin), normalise_origin(new_origin)
    if old == new:
        raise InvalidInput(f"{old} is both the old and the new origin: nothing to move")
    now = datetime.now(UTC)
    # The sites table locked before its rows are read (a change made meanwhile would be
    # overwritten); runs again after a deadlock or a statement's lost connection.
    for attempt in attempts("moving a site"):
        with attempt, db.write() as conn:
            summary = MoveSummary(old, new)
            lock_origins(conn)
            _move(conn, summary, old, new, site_id, keep_old_origin, now)
    return summary


def _move(conn: Connection, summary: MoveSummary, old: str, new: str, site_id: str | None,
          keep_old_origin: bool, now: datetime) -> None:
    query = select(sites.c.id, sites.c.origins).order_by(sites.c.id)
    if site_id is not None:
        query = query.where(sites.c.id == site_id)
    found = [row for row in conn.execute(query)
             if site_id is not None or old in (row.origins or ())]
    if not found:
        raise NotFound(
            f"no site {site_id!r}" if site_id else f"no site allows the origin {old}",
            code="site_not_found",
        )
    claim_origins(conn, [new], [row.id for row in found])
    for row in found:
        origins = [o for o in (row.origins or ()) if keep_old_origin or o != old]
        origins = sorted(set(origins) | {new})
        conn.execute(update(sites).where(sites.c.id == row.id).values(origins=origins))
        changes.record(conn, Change(ChangeKind.SITES, row.id))
        summary.sites.append(row.id)
        moved = conn.execute(
            select(threads.c.id, threads.c.key, threads.c.url).where(
                threads.c.site_id == row.id,
                threads.c.url.is_not(None),
            )
        ).all()
        for thread in moved:
            try:
                url = normalise_url(thread.url)
            except ThreadKeyError:
                continue
            if origin_of(url) != old:
                continue
            # Keys are a URL's path and query (core.thread_keys), so a thread keeps
            # its key and old URLs lead to it still: only the URL changes.
            conn.execute(update(threads).where(threads.c.id == thread.id).values(
                url=new + url[len(old):], updated_at=now))
            changes.record(conn, Change(ChangeKind.THREAD, row.id, thread.key, thread.id,
                                        at=now))
            summary.threads_moved += 1
