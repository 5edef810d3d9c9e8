"""Importing comments from other systems: the engine that writes the records importers
yield (rostra.services.import_records).

The engine writes in batches, each in its own transaction, and remembers every source
id it wrote (``import_items``). So importing a file again creates nothing twice; an
interrupted import is resumed by running it again; and an import that stops on bad
input removes what its earlier batches wrote, leaving the database as it was. Records of
Rostra's own format are written by rostra.services.rostra_format_restore.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from rostra.core.models import Anchor, CommentState
from rostra.moderation.ip_hashing import IpHasher, ip_hasher_for
from rostra.services.exporting import (
    ImportItemRecord,
    RostraRecord,
    SiteRecord,
)
from rostra.services.import_records import (
    ImportedComment,
    ImportedSubscription,
    ImportedThread,
    ImportedVote,
    ImportItem,
    ImportSource,
    ImportSummary,
    Notice,
    RunStatus,
    Skipped,
)
from rostra.services.import_rollback import rollback_run
from rostra.services.rostra_format_restore import RostraRestore
from rostra.services.sites import SiteService, normalise_origin
from rostra.services.subscriptions import EMAIL
from rostra.store import queries
from rostra.store.bulk import (
    advance_sequences,
    allocate_ids,
    chunks,
    forget_missing_accounts,
    insert_many,
)
from rostra.store.db import Attempt, Database, attempts
from rostra.store.import_tables import import_items, import_runs, questions
from rostra.store.notify_tables import (
    notify_addresses,
    notify_subscription_comments,
    notify_subscriptions,
)
from rostra.store.tables import comments, sites, thread_aliases, threads, votes

BATCH_SIZE = 5000
IP_CACHE_SIZE = 100_000
ID_RANGE = 20_000  # comments one finishing UPDATE covers
THREAD_CHUNK = 200  # threads one finishing UPDATE covers


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file: the same file resumes the same interrupted run."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _anchor_json(anchor: Anchor | None) -> dict[str, Any] | None:
    return None if anchor is None else asdict(anchor)


def _alias_source_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ImportEngine:
    """Writes a stream of records for one site (or, for the Rostra format, the sites the
    records name) and finishes with parents, depths and counts computed in SQL."""

    def __init__(
        self,
        db: Database,
        *,
        source: ImportSource,
        site_id: str | None,
        fingerprint: str,
        origins: Sequence[str] = (),
        batch_size: int = BATCH_SIZE,
        on_progress: Callable[[ImportSummary], None] | None = None,
        ips: IpHasher | None = None,
    ) -> None:
        if site_id is None and source is not ImportSource.ROSTRA:
            raise ValueError("a site is needed to import from another system")
        self.db = db
        self.source = source
        self.site_id = site_id
        self.fingerprint = fingerprint
        self.origins = sorted({normalise_origin(o) for o in origins})
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.summary = ImportSummary(source=source, site_id=site_id)
        # The Rostra format keeps ids, which are unique across sites.
        self._scope = site_id if source is not ImportSource.ROSTRA else "*"
        self._pending: list[ImportItem | RostraRecord] = []
        self._thread_ids: dict[str, int] = {}
        # Addresses of imported comments are hashed as the server hashes them this window.
        self._ips = ips
        self._ip_hashes: dict[str, str] = {}
        self._run_id = 0
        # Records of Rostra's own format.
        self._restore = RostraRestore(site_id=site_id, origins=self.origins,
                                      summary=self.summary, remember=self._remember)

    # -- the run ---------------------------------------------------------------

    def run(self, items: Iterable[ImportItem | RostraRecord]) -> ImportSummary:
        """Import every item; on bad input, undo the run and raise; when interrupted
        (Ctrl-C), keep what was written so that running again resumes."""
        try:
            self._start()
            for item in items:
                self._pending.append(item)
                self.summary.items += 1
                if len(self._pending) >= self.batch_size:
                    self._flush()
            self._flush()
            self._finish()
        except Exception:
            self.rollback()
            raise
        return self.summary

    def _tries(self, what: str) -> Iterator[Attempt]:
        """``attempts`` of one of the run's transactions (a batch, the end), each try
        starting from what the run knew before the first: a failed try's counts and
        thread ids went with its rows. So a deadlock with the site's live traffic, or a
        restart of PostgreSQL, costs the batch a second try, not the whole run."""
        summary, thread_ids = copy.deepcopy(self.summary), dict(self._thread_ids)
        for attempt in attempts(what):
            if attempt.number > 1:
                self.summary.put_back(summary)
                self._thread_ids = dict(thread_ids)
            yield attempt

    def _start(self) -> None:
        for attempt in self._tries("starting an import"):
            with attempt, self.db.write() as conn:
                self._open_run(conn)
        self.summary.run_id = self._run_id
        # Made now: the hasher may write the window's salt, which must not happen inside
        # a batch.
        if self._ips is None:
            self._ips = ip_hasher_for(self.db, None)
        self._ips.hash("127.0.0.1")
        if self.site_id is not None and self.source is not ImportSource.ROSTRA:
            self._ensure_site(self.site_id, name=self.site_id)

    def _open_run(self, conn: Connection) -> None:
        """Take over the interrupted run of this file, or record a new one."""
        row = conn.execute(
            select(import_runs.c.id)
            .where(
                import_runs.c.site_id == self._scope,
                import_runs.c.source == self.source.value,
                import_runs.c.fingerprint == self.fingerprint,
                import_runs.c.status == RunStatus.RUNNING.value,
            )
            .order_by(import_runs.c.id.desc())
        ).first()
        if row is not None:
            self._run_id = int(row.id)
            self.summary.resumed = True
        else:
            self._run_id = int(
                conn.execute(
                    insert(import_runs).returning(import_runs.c.id),
                    {
                        "site_id": self._scope,
                        "source": self.source.value,
                        "fingerprint": self.fingerprint,
                        "status": RunStatus.RUNNING.value,
                        "started_at": datetime.now(UTC),
                        "site_created": False,
                    },
                ).scalar_one()
            )

    def _ensure_site(self, site_id: str, *, name: str) -> None:
        service = SiteService(self.db)
        with self.db.read() as conn:
            row = conn.execute(select(sites.c.origins).where(sites.c.id == site_id)).first()
        if row is None:
            service.create(site_id, name, self.origins)
            self.summary.sites_created += 1
            for attempt in attempts("noting an import's new site", idempotent=True):
                with attempt, self.db.write() as conn:
                    conn.execute(
                        update(import_runs)
                        .where(import_runs.c.id == self._run_id)
                        .values(site_created=True)
                    )
        elif self.origins:
            merged = sorted(set(row.origins or ()) | set(self.origins))
            service.update(site_id, origins=merged)

    def _ip_hash(self, ip: str | None) -> str | None:
        if not ip or self._ips is None:
            return None
        # Readers come back: hashing (parse, HMAC) once per address is a tenth of the
        # import's CPU otherwise. Cleared when full, so memory stays bounded.
        found = self._ip_hashes.get(ip)
        if found is None:
            if len(self._ip_hashes) >= IP_CACHE_SIZE:
                self._ip_hashes.clear()
            found = self._ip_hashes[ip] = self._ips.hash(ip) or ""
        return found or None

    # -- batches ---------------------------------------------------------------

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        groups: dict[type, list[Any]] = {}
        for item in batch:
            groups.setdefault(type(item), []).append(item)
        for attempt in self._tries("writing a batch of an import"):
            with attempt, self.db.write() as conn:
                self._write_batch(conn, dict(groups))
        if self.on_progress is not None:
            self.on_progress(self.summary)

    def _write_batch(self, conn: Connection, groups: dict[type, list[Any]]) -> None:
        for item in groups.pop(SiteRecord, []):
            self._restore.write_site(conn, item)
        self._write_threads(conn, groups.pop(ImportedThread, []))
        self._restore.write_rows(conn, groups)
        self._restore.write_bookkeeping(conn, groups.pop(ImportItemRecord, []),
                                        self._run_id)
        self._write_comments(conn, groups.pop(ImportedComment, []))
        self._write_votes(conn, groups.pop(ImportedVote, []))
        self._write_subscriptions(conn, groups.pop(ImportedSubscription, []))
        for skipped in groups.pop(Skipped, []):
            self.summary.skipped[skipped.reason] += 1
        for notice in groups.pop(Notice, []):
            self._notice(notice.message)
        if groups:  # pragma: no cover - an importer yielded something unknown
            raise TypeError(f"cannot import {sorted(t.__name__ for t in groups)}")

    def _mapped(self, conn: Connection, kind: str, source_ids: Sequence[str]) -> dict[str, int]:
        """Source ids of ``kind`` imported before (by any run) -> the rows they became."""
        found: dict[str, int] = {}
        unique = sorted(set(source_ids))
        for chunk in chunks(unique):
            rows = conn.execute(
                select(import_items.c.source_id, import_items.c.target_id).where(
                    import_items.c.site_id == self._scope,
                    import_items.c.source == self.source.value,
                    import_items.c.kind == kind,
                    import_items.c.source_id.in_(chunk),
                )
            )
            found.update({r.source_id: int(r.target_id) for r in rows})
        return found

    def _remember(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        if rows:
            base = {
                "site_id": self._scope, "source": self.source.value, "run_id": self._run_id,
                "created": True, "target_key": None, "parent_source_id": None,
            }
            insert_many(conn, import_items, [{**base, **row} for row in rows])

    # -- records from other systems --------------------------------------------

    def _write_threads(self, conn: Connection, items: list[ImportedThread]) -> None:
        if not items:
            return
        assert self.site_id is not None
        known = self._mapped(conn, "thread", [t.source_id for t in items])
        now = datetime.now(UTC)
        for t in items:
            if t.source_id in self._thread_ids:
                continue
            if t.source_id in known:
                self._thread_ids[t.source_id] = known[t.source_id]
                continue
            found = None
            for key in (t.key, *t.aliases):
                found = queries.find_thread(conn, self.site_id, key)
                if found is not None:
                    break
            if found is not None:
                thread_id, created = int(found.id), False
                self.summary.threads_matched += 1
            else:
                thread_id = int(
                    conn.execute(
                        insert(threads).returning(threads.c.id),
                        {
                            "site_id": self.site_id, "key": t.key, "url": t.url,
                            "title": (t.title or None) and t.title[:500],
                            "created_at": t.created_at or now, "updated_at": now,
                            "comment_count": 0, "top_level_count": 0, "closed": t.closed,
                        },
                    ).scalar_one()
                )
                created = True
                self.summary.threads_created += 1
            self._thread_ids[t.source_id] = thread_id
            remember = [{"kind": "thread", "source_id": t.source_id, "target_id": thread_id,
                         "created": created}]
            for alias in dict.fromkeys(t.aliases):
                if alias == t.key or queries.find_thread(conn, self.site_id, alias) is not None:
                    continue
                conn.execute(
                    insert(thread_aliases),
                    {"site_id": self.site_id, "key": alias, "thread_id": thread_id},
                )
                remember.append({"kind": "alias", "source_id": _alias_source_id(alias),
                                 "target_id": thread_id, "target_key": alias})
                self.summary.aliases_created += 1
            for position, q in enumerate(t.questions):
                taken = conn.execute(
                    select(questions.c.question_id).where(
                        questions.c.thread_id == thread_id,
                        questions.c.question_id == q.question_id,
                    )
                ).first()
                if taken is not None:
                    continue
                conn.execute(
                    insert(questions),
                    {"thread_id": thread_id, "question_id": q.question_id,
                     "question": q.question, "anchor": _anchor_json(q.anchor),
                     "opened": q.opened, "position": position},
                )
                remember.append({"kind": "question",
                                 "source_id": f"{t.source_id}#{q.question_id}",
                                 "target_id": thread_id, "target_key": q.question_id})
                self.summary.questions_created += 1
            self._remember(conn, remember)

    def _thread_id(self, conn: Connection, source_id: str) -> int | None:
        if source_id not in self._thread_ids:
            # Resuming: the thread was written by the interrupted run.
            found = self._mapped(conn, "thread", [source_id])
            if source_id not in found:
                return None
            self._thread_ids[source_id] = found[source_id]
        return self._thread_ids[source_id]

    def _write_comments(self, conn: Connection, items: list[ImportedComment]) -> None:
        if not items:
            return
        known = self._mapped(conn, "comment", [c.source_id for c in items])
        rows: list[dict[str, Any]] = []
        fresh: list[ImportedComment] = []
        seen: set[str] = set()
        for c in items:
            if c.source_id in known or c.source_id in seen:
                self.summary.already_imported += 1
                continue
            thread_id = self._thread_id(conn, c.thread_source_id)
            if thread_id is None:
                self.summary.skipped["comment on a page that is not in the file"] += 1
                continue
            seen.add(c.source_id)
            fresh.append(c)
            rows.append({
                "thread_id": thread_id, "parent_id": None, "root_id": None, "depth": 0,
                "state": c.state.value,
                "author_name": (c.author_name or None) and c.author_name[:400],
                "author_email": (c.author_email or None) and c.author_email[:320],
                "author_website": (c.author_website or None) and c.author_website[:500],
                "account_id": None, "voter_id": None, "ip_hash": self._ip_hash(c.ip),
                "text": c.text, "html": c.html, "created_at": c.created_at,
                "edited_at": c.edited_at, "voted_at": None,
                "score": c.upvotes - c.downvotes, "upvotes": c.upvotes,
                "downvotes": c.downvotes, "reply_count": 0,
                "anchor": _anchor_json(c.anchor), "language": None, "moderation": None,
            })
        if not rows:
            return
        ids = allocate_ids(conn, comments, len(rows))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        # Plain executemany: RETURNING in parameter order costs SQLite a statement a row.
        insert_many(conn, comments, rows)
        self._remember(conn, [
            {"kind": "comment", "source_id": c.source_id, "target_id": new_id,
             "parent_source_id": c.parent_source_id}
            for c, new_id in zip(fresh, ids, strict=True)
        ])
        self.summary.comments_created += len(ids)

    def _write_votes(self, conn: Connection, items: list[ImportedVote]) -> None:
        if not items:
            return
        comment_ids = self._mapped(conn, "comment", [v.comment_source_id for v in items])
        vote_ids = {f"{v.comment_source_id}|{v.voter}": v for v in items}
        known = self._mapped(conn, "vote", list(vote_ids))
        wanted: dict[tuple[int, str], ImportedVote] = {}
        for source_id, v in vote_ids.items():
            if source_id in known:
                self.summary.already_imported += 1
            elif v.value not in (-1, 1):
                self.summary.skipped["vote that is neither up nor down"] += 1
            elif v.comment_source_id not in comment_ids:
                self.summary.skipped["vote on a comment that is not imported"] += 1
            else:
                wanted[(comment_ids[v.comment_source_id], v.voter[:80])] = v
        pairs = list(wanted)
        for chunk in chunks(pairs):
            taken = conn.execute(
                select(votes.c.comment_id, votes.c.voter).where(
                    tuple_(votes.c.comment_id, votes.c.voter).in_(list(chunk))
                )
            )
            for row in taken:
                wanted.pop((int(row.comment_id), row.voter), None)
                self.summary.already_imported += 1
        if not wanted:
            return
        conn.execute(insert(votes), [
            {"comment_id": cid, "voter": voter, "value": v.value, "ip_hash": None,
             "created_at": v.created_at}
            for (cid, voter), v in wanted.items()
        ])
        self._remember(conn, [
            {"kind": "vote", "source_id": f"{v.comment_source_id}|{v.voter}",
             "target_id": cid, "target_key": voter}
            for (cid, voter), v in wanted.items()
        ])
        self.summary.votes_created += len(wanted)

    def _write_subscriptions(self, conn: Connection, items: list[ImportedSubscription]) -> None:
        """Addresses (created confirmed when the source had them confirmed), subscriptions
        by thread key, and the comments "replies to this comment" subscriptions follow."""
        if not items:
            return
        assert self.site_id is not None
        followed = [s.comment_source_id for s in items if s.comment_source_id]
        comment_ids = self._mapped(conn, "comment", followed) if followed else {}
        wanted: dict[str, tuple[ImportedSubscription, str, int, int | None]] = {}
        for s in items:
            email = s.email.strip().lower()
            if len(email) > 320 or not EMAIL.match(email):
                self.summary.skipped["subscription without a valid email address"] += 1
                continue
            if s.kind not in ("thread", "replies", "comment"):
                self.summary.skipped["subscription of an unknown kind"] += 1
                continue
            thread_id = self._thread_id(conn, s.thread_source_id)
            if thread_id is None:
                self.summary.skipped["subscription to a page that is not imported"] += 1
                continue
            comment_id = None
            if s.kind == "comment":
                comment_id = comment_ids.get(s.comment_source_id or "")
                if comment_id is None:
                    self.summary.skipped["subscription to a comment that is not imported"] += 1
                    continue
            source_id = _alias_source_id(
                f"{s.thread_source_id}|{email}|{s.kind}|{s.comment_source_id or ''}")
            wanted[source_id] = (s, email, thread_id, comment_id)
        for source_id in self._mapped(conn, "subscription", list(wanted)):
            del wanted[source_id]
            self.summary.already_imported += 1
        if not wanted:
            return
        now = datetime.now(UTC)
        keys: dict[int, str] = {}
        for chunk in chunks(sorted({w[2] for w in wanted.values()})):
            keys.update((int(r.id), r.key) for r in conn.execute(
                select(threads.c.id, threads.c.key).where(threads.c.id.in_(list(chunk)))))
        addresses = self._addresses(conn, [(w[1], w[0]) for w in wanted.values()], now)
        # Several source rows can be one Rostra subscription (wpDiscuz keeps one row per
        # followed comment): key them by (address, thread key, kind).
        subs: dict[tuple[int, str, str], int] = {}
        by_source: dict[str, tuple[int, str, str]] = {}
        for source_id, (s, email, thread_id, _cid) in wanted.items():
            kind = "thread" if s.kind == "thread" else "replies"
            by_source[source_id] = (addresses[email], keys[thread_id], kind)
        wanted_keys = sorted(set(by_source.values()))
        for chunk in chunks(wanted_keys):
            subs.update(((int(r.address_id), r.thread_key, r.kind), int(r.id))
                        for r in conn.execute(
                select(notify_subscriptions.c.id, notify_subscriptions.c.address_id,
                       notify_subscriptions.c.thread_key, notify_subscriptions.c.kind)
                .where(notify_subscriptions.c.site_id == self.site_id,
                       tuple_(notify_subscriptions.c.address_id,
                              notify_subscriptions.c.thread_key,
                              notify_subscriptions.c.kind).in_(list(chunk)))))
        fresh = [k for k in wanted_keys if k not in subs]
        first: dict[tuple[int, str, str], ImportedSubscription] = {}
        for source_id, key in by_source.items():
            first.setdefault(key, wanted[source_id][0])
        made: set[int] = set()
        if fresh:
            ids = allocate_ids(conn, notify_subscriptions, len(fresh))
            conn.execute(insert(notify_subscriptions), [
                {"id": new_id, "address_id": key[0], "site_id": self.site_id,
                 "thread_key": key[1], "kind": key[2],
                 "language": (first[key].language or "en")[:16], "base_url": None,
                 "created_at": first[key].created_at or now}
                for key, new_id in zip(fresh, ids, strict=True)
            ])
            subs.update(zip(fresh, ids, strict=True))
            made.update(ids)
            self.summary.subscriptions_created += len(ids)
        links = sorted({(subs[by_source[sid]], w[3]) for sid, w in wanted.items()
                        if w[3] is not None})
        present: set[tuple[int, int]] = set()
        for chunk in chunks(links):
            present.update((int(r.subscription_id), int(r.comment_id)) for r in conn.execute(
                select(notify_subscription_comments).where(tuple_(
                    notify_subscription_comments.c.subscription_id,
                    notify_subscription_comments.c.comment_id).in_(list(chunk)))))
        new_links = [link for link in links if link not in present]
        if new_links:
            conn.execute(insert(notify_subscription_comments), [
                {"subscription_id": sub_id, "comment_id": cid} for sub_id, cid in new_links])
        self._remember(conn, [
            {"kind": "subscription", "source_id": sid, "target_id": subs[key],
             "created": subs[key] in made}
            for sid, key in by_source.items()
        ] + [
            {"kind": "sub_comment", "source_id": f"{sub_id}|{cid}", "target_id": sub_id,
             "target_key": str(cid)}
            for sub_id, cid in new_links
        ])

    def _addresses(
        self, conn: Connection, wanted: list[tuple[str, ImportedSubscription]], now: datetime
    ) -> dict[str, int]:
        """email -> address id, creating missing addresses. An address the source system
        had confirmed is confirmed here too (a confirmation is never taken back)."""
        confirmed = {e for e, s in wanted if s.confirmed}
        first: dict[str, ImportedSubscription] = {}
        for email, s in wanted:
            first.setdefault(email, s)
        found: dict[str, int] = {}
        unconfirmed: list[int] = []
        for chunk in chunks(sorted(first)):
            for r in conn.execute(
                select(notify_addresses.c.id, notify_addresses.c.email,
                       notify_addresses.c.confirmed_at)
                .where(notify_addresses.c.email.in_(list(chunk)))
            ):
                found[r.email] = int(r.id)
                if r.confirmed_at is None and r.email in confirmed:
                    unconfirmed.append(int(r.id))
        for chunk in chunks(unconfirmed):
            conn.execute(update(notify_addresses)
                         .where(notify_addresses.c.id.in_(list(chunk)),
                                notify_addresses.c.confirmed_at.is_(None))
                         .values(confirmed_at=now))
        missing = [e for e in first if e not in found]
        if missing:
            ids = allocate_ids(conn, notify_addresses, len(missing))
            rows = []
            for email, new_id in zip(missing, ids, strict=True):
                s = first[email]
                created = s.created_at or now
                rows.append({
                    "id": new_id, "email": email, "language": (s.language or "en")[:16],
                    "created_at": created,
                    "confirmed_at": created if email in confirmed else None,
                    "confirmation_sent_at": None, "bounced_at": None, "bounce_reason": None,
                })
            conn.execute(insert(notify_addresses), rows)
            found.update(zip(missing, ids, strict=True))
            self._remember(conn, [
                {"kind": "address", "source_id": _alias_source_id(email), "target_id": new_id}
                for email, new_id in zip(missing, ids, strict=True)
            ])
            self.summary.addresses_created += len(ids)
        return found

    # -- the end ------------------------------------------------------------------

    def _finish(self) -> None:
        for attempt in self._tries("finishing an import"):
            with attempt, self.db.write() as conn:
                if self.source is ImportSource.ROSTRA:
                    advance_sequences(conn)
                    forget_missing_accounts(conn)
                else:
                    self._link_comments(conn)
                conn.execute(
                    update(import_runs).where(import_runs.c.id == self._run_id).values(
                        status=RunStatus.DONE.value, finished_at=datetime.now(UTC),
                        summary=self.summary.to_json(),
                    )
                )

    def _run_comments(self, low: int | None = None, high: int | None = None) -> Any:
        """Ids of the comments this run wrote (between ``low`` and ``high``)."""
        query = select(import_items.c.target_id).where(
            import_items.c.run_id == self._run_id, import_items.c.kind == "comment"
        )
        if low is not None and high is not None:
            query = query.where(import_items.c.target_id.between(low, high))
        return query

    def _link_comments(self, conn: Connection) -> None:
        """Parents from source ids, then roots and depths, reply counts and thread counts.

        Every UPDATE covers one range of ids (or of threads) at a time: on SQLite a
        statement keeps a journal of every page it changes, so one statement over a
        million comments would hold hundreds of MiB."""
        child, parent = import_items.alias("child"), import_items.alias("parent")
        ranges = self._id_ranges(conn)
        parent_target = (
            select(parent.c.target_id)
            .select_from(child.join(parent, and_(
                parent.c.site_id == child.c.site_id, parent.c.source == child.c.source,
                parent.c.kind == "comment", parent.c.source_id == child.c.parent_source_id,
            )))
            .where(child.c.kind == "comment", child.c.target_id == comments.c.id,
                   child.c.run_id == self._run_id)
            .scalar_subquery()
        )
        pc = comments.alias("pc")
        missing = 0
        for lo, hi in ranges:
            in_range = comments.c.id.between(lo, hi)
            run_comments = self._run_comments(lo, hi)
            with_parent = run_comments.where(import_items.c.parent_source_id.is_not(None))
            conn.execute(update(comments).where(in_range, comments.c.id.in_(with_parent))
                         .values(parent_id=parent_target))
            # A parent in another thread is as good as missing.
            conn.execute(
                update(comments)
                .where(in_range, comments.c.id.in_(with_parent),
                       comments.c.parent_id.is_not(None),
                       select(pc.c.thread_id).where(pc.c.id == comments.c.parent_id)
                       .scalar_subquery() != comments.c.thread_id)
                .values(parent_id=None)
            )
            missing += int(conn.scalar(
                select(func.count()).select_from(comments)
                .where(in_range, comments.c.id.in_(with_parent), comments.c.parent_id.is_(None))
            ) or 0)
            conn.execute(
                update(comments)
                .where(in_range, comments.c.id.in_(run_comments), comments.c.parent_id.is_(None))
                .values(root_id=comments.c.id, depth=0)
            )
        self.summary.parents_missing = missing
        if missing:
            self._notice(f"{missing} replies whose parent is not in the file became top-level")
        while True:
            done = 0
            for lo, hi in ranges:
                done += conn.execute(
                    update(comments)
                    .where(
                        comments.c.id.between(lo, hi),
                        comments.c.id.in_(self._run_comments(lo, hi)),
                        comments.c.root_id.is_(None),
                        exists(select(pc.c.id).where(pc.c.id == comments.c.parent_id,
                                                     pc.c.root_id.is_not(None))),
                    )
                    .values(
                        root_id=select(pc.c.root_id).where(pc.c.id == comments.c.parent_id)
                        .scalar_subquery(),
                        depth=select(pc.c.depth + 1).where(pc.c.id == comments.c.parent_id)
                        .scalar_subquery(),
                    )
                ).rowcount
            if not done:
                break
        looped = 0
        for lo, hi in ranges:
            looped += conn.execute(
                update(comments)
                .where(comments.c.id.between(lo, hi),
                       comments.c.id.in_(self._run_comments(lo, hi)),
                       comments.c.root_id.is_(None))
                .values(parent_id=None, root_id=comments.c.id, depth=0)
            ).rowcount
        if looped:
            self._notice(f"{looped} replies in a loop of parents became top-level")
        touched = sorted(int(t) for t in conn.scalars(
            select(comments.c.thread_id).where(comments.c.id.in_(self._run_comments()))
            .distinct()))
        reply = comments.alias("reply")
        approved = and_(comments.c.thread_id == threads.c.id,
                        comments.c.state == CommentState.APPROVED.value)
        now = datetime.now(UTC)
        for chunk in chunks(touched, THREAD_CHUNK):
            in_chunk = comments.c.thread_id.in_(list(chunk))
            max_depth = conn.scalar(select(func.max(comments.c.depth)).where(in_chunk))
            # Bottom up: a tombstone counts as a reply only while it has visible replies.
            for depth in range(int(max_depth or 0), -1, -1):
                conn.execute(
                    update(comments)
                    .where(in_chunk, comments.c.depth == depth)
                    .values(reply_count=select(func.count()).select_from(reply).where(
                        reply.c.parent_id == comments.c.id,
                        or_(reply.c.state == CommentState.APPROVED.value,
                            reply.c.reply_count > 0),
                    ).scalar_subquery())
                )
            conn.execute(
                update(threads).where(threads.c.id.in_(list(chunk))).values(
                    comment_count=select(func.count()).select_from(comments).where(approved)
                    .scalar_subquery(),
                    top_level_count=select(func.count()).select_from(comments)
                    .where(approved, comments.c.parent_id.is_(None)).scalar_subquery(),
                    updated_at=now,
                )
            )

    def _id_ranges(self, conn: Connection) -> list[tuple[int, int]]:
        """The ids of this run's comments as ranges of at most ID_RANGE ids."""
        low, high = conn.execute(
            select(func.min(import_items.c.target_id), func.max(import_items.c.target_id))
            .where(import_items.c.run_id == self._run_id, import_items.c.kind == "comment")
        ).one()
        if low is None:
            return []
        return [(start, min(start + ID_RANGE - 1, int(high)))
                for start in range(int(low), int(high) + 1, ID_RANGE)]

    def _notice(self, message: str) -> None:
        if message not in self.summary.notices:
            self.summary.notices.append(message)

    # -- undo -----------------------------------------------------------------------

    def rollback(self) -> None:
        """Remove every row this run (and the interrupted runs it took over) made."""
        if not self._run_id:
            return
        rollback_run(self.db, self._run_id)


def subscriptions_supported() -> bool:
    """Whether this server has the notification tables (subscriptions) yet."""
    try:
        importlib.import_module("rostra.store.notify_tables")
    except ImportError:
        return False
    return True
