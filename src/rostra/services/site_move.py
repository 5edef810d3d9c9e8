"""Moving a site to a new domain: origins and thread URLs change, old URLs keep working."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select, update

from rostra.core.errors import NotFound
from rostra.core.thread_keys import ThreadKeyError, normalise_url, origin_of, thread_key
from rostra.services.sites import claim_origins, normalise_origin
from rostra.store import queries
from rostra.store.db import Database
from rostra.store.tables import sites, thread_aliases, threads


@dataclass(slots=True)
class MoveSummary:
    """What a move changed."""

    old_origin: str
    new_origin: str
    sites: list[str] = field(default_factory=list)
    threads_moved: int = 0
    aliases_created: int = 0
    conflicts: list[str] = field(default_factory=list)


def move_site(
    db: Database,
    old_origin: str,
    new_origin: str,
    *,
    site_id: str | None = None,
    keep_old_origin: bool = False,
) -> MoveSummary:
    """Point every site allowing ``old_origin`` (or just ``site_id``) at ``new_origin``,
    in one transaction. Threads whose URL was on the old origin get the new URL; where
    that changes their key, the old key stays as an alias, so old links still resolve."""
    old, new = normalise_origin(old_origin), normalise_origin(new_origin)
    summary = MoveSummary(old, new)
    now = datetime.now(UTC)
    with db.write() as conn:
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
                new_url = new + url[len(old):]
                new_key = thread.key
                # Only URL-keyed threads follow the URL (explicit ids stay as they are).
                if thread.key == thread_key(url):
                    new_key = thread_key(new_url)
                if new_key != thread.key:
                    other = queries.find_thread(conn, row.id, new_key)
                    if other is not None and other.id != thread.id:
                        summary.conflicts.append(
                            f"{thread.url} -> {new_url}: key {new_key!r} is taken by thread "
                            f"{other.id}; left as it was"
                        )
                        continue
                    taken = conn.execute(
                        select(thread_aliases.c.thread_id).where(
                            thread_aliases.c.site_id == row.id, thread_aliases.c.key == thread.key
                        )
                    ).first()
                    if taken is None:
                        conn.execute(
                            insert(thread_aliases).values(
                                site_id=row.id, key=thread.key, thread_id=thread.id
                            )
                        )
                        summary.aliases_created += 1
                conn.execute(
                    update(threads).where(threads.c.id == thread.id).values(
                        url=new_url, key=new_key, updated_at=now
                    )
                )
                summary.threads_moved += 1
    return summary
