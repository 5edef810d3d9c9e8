"""Importing comments from other systems: the engine that writes the records importers
yield (rostra.services.import_records).

The engine writes in batches, each in its own transaction, and remembers every source
id it wrote (``import_items``). So importing a file again creates nothing twice; an
interrupted import is resumed by running it again; and an import that stops on bad
input removes what its earlier batches wrote, leaving the database as it was. Records of
Rostra's own format are written by rostra.services.rostra_format_restore, subscriptions
by rostra.services.import_subscriptions; the run's end ties replies to their parents
(rostra.services.import_linking).
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
    insert,
    select,
    tuple_,
    update,
)

from rostra.core.models import Anchor
from rostra.moderation.ip_hashing import IpHasher, ip_hasher_for
from rostra.services.exporting import ImportItemRecord, RostraRecord, SiteRecord
from rostra.services.import_linking import link_run_comments
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
from rostra.services.import_subscriptions import SubscriptionImport, alias_source_id
from rostra.services.moderators_work_records import EMAIL_SALT
from rostra.services.rostra_format_restore import RostraRestore
from rostra.services.sites import SiteService, claim_origins, lock_origins, normalise_origin
from rostra.store import changes, queries
from rostra.store.bulk import (
    advance_sequences,
    allocate_ids,
    chunks,
    forget_missing_accounts,
    insert_many,
)
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Attempt, Database, attempts
from rostra.store.import_tables import import_items, import_runs, questions
from rostra.store.tables import comments, sites, thread_aliases, threads, votes

BATCH_SIZE = 5000
DUPLICATE_COMMENT = "comment with a duplicate source id in the file (the first is kept)"
IP_CACHE_SIZE = 100_000


def file_fingerprint(path: Path) -> str:
    """SHA-256 of a file: the same file resumes the same interrupted run."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _anchor_json(anchor: Anchor | None) -> dict[str, Any] | None:
    return None if anchor is None else asdict(anchor)


class ImportEngine(SubscriptionImport):
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
        self._thread_items: dict[int, str] = {}  # thread -> the first item of the run on it
        self._skipped_comments: set[str] = set()  # source ids: replies to them are told so
        # Addresses of imported comments are hashed as the server hashes them this window.
        self._ips = ips
        self._ip_hashes: dict[str, str] = {}
        self._run_id = 0
        # Records of Rostra's own format.
        self._restore = RostraRestore(site_id=site_id, origins=self.origins,
                                      summary=self.summary, remember=self._remember,
                                      recall=self._mapped)

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
        thread_items = dict(self._thread_items)
        held = {parent: list(replies) for parent, replies in self._restore.held.items()}
        for attempt in attempts(what):
            if attempt.number > 1:
                self.summary.put_back(summary)
                self._thread_ids = dict(thread_ids)
                self._thread_items = dict(thread_items)
                self._restore.held = {p: list(replies) for p, replies in held.items()}
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
        if self.source is ImportSource.ROSTRA:
            self._restore.email_salt = self.db.secret(EMAIL_SALT)
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
        else:
            gained = [o for o in self.origins if o not in (row.origins or ())]
            if gained:
                # Refused now (taken by another site) rather than after the whole file;
                # added only as the run finishes, so that a run that fails leaves the
                # site's allowlist as it was.
                for attempt in attempts("checking an import's origins", idempotent=True):
                    with attempt, self.db.write() as conn:
                        claim_origins(conn, gained, [site_id])
                self._restore.origins_to_add.setdefault(site_id, set()).update(gained)

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
            if skipped.kind == "comment" and skipped.source_id:
                self._skipped_comments.add(skipped.source_id)
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
            found = queries.find_thread(conn, self.site_id, t.key)
            if found is None:
                found = self._thread_by_alias(conn, t)
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
            self._thread_items.setdefault(thread_id, t.source_id)
            remember = [{"kind": "thread", "source_id": t.source_id, "target_id": thread_id,
                         "created": created}]
            for alias in dict.fromkeys(t.aliases):
                if alias == t.key or queries.find_thread(conn, self.site_id, alias) is not None:
                    continue
                conn.execute(
                    insert(thread_aliases),
                    {"site_id": self.site_id, "key": alias, "thread_id": thread_id},
                )
                remember.append({"kind": "alias", "source_id": alias_source_id(alias),
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

    def _thread_by_alias(self, conn: Connection, t: ImportedThread) -> Any:
        """The thread the aliases of ``t`` lead to, when its key led nowhere: only one
        that no other item of the source has (two WordPress posts can share a guid), and
        only when they lead to one thread."""
        assert self.site_id is not None
        found: dict[int, Any] = {}
        for alias in dict.fromkeys(t.aliases):
            row = queries.find_thread(conn, self.site_id, alias)
            if row is not None and not self._another_items(conn, int(row.id), t.source_id):
                found.setdefault(int(row.id), row)
        if len(found) > 1:
            self._notice("items whose aliases led to several threads got threads of their own")
            return None
        return next(iter(found.values()), None)

    def _another_items(self, conn: Connection, thread_id: int, source_id: str) -> bool:
        """Whether thread ``thread_id`` is another item's of this source (this run's or
        an earlier one's)."""
        mine = self._thread_items.get(thread_id)
        if mine is not None:
            return mine != source_id
        other = conn.execute(
            select(import_items.c.source_id).where(
                import_items.c.site_id == self._scope,
                import_items.c.source == self.source.value,
                import_items.c.kind == "thread",
                import_items.c.target_id == thread_id,
                import_items.c.source_id != source_id,
            ).limit(1)
        ).first()
        return other is not None

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
        known = self._known_comments(conn, [c.source_id for c in items])
        rows: list[dict[str, Any]] = []
        fresh: list[ImportedComment] = []
        seen: set[str] = set()
        for c in items:
            thread_id = self._thread_id(conn, c.thread_source_id)
            if c.source_id in seen or (c.source_id in known and self._twice_in_file(
                    known[c.source_id], thread_id)):
                self.summary.skipped[DUPLICATE_COMMENT] += 1
                continue
            if c.source_id in known:
                self.summary.already_imported += 1
                continue
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

    def _known_comments(
        self, conn: Connection, source_ids: Sequence[str]
    ) -> dict[str, tuple[int, int | None]]:
        """Source ids of comments imported before (by any run) -> (the run that wrote
        them, the thread their comment is on)."""
        found: dict[str, tuple[int, int | None]] = {}
        for chunk in chunks(sorted(set(source_ids))):
            rows = conn.execute(
                select(import_items.c.source_id, import_items.c.run_id, comments.c.thread_id)
                .select_from(import_items.outerjoin(
                    comments, comments.c.id == import_items.c.target_id))
                .where(
                    import_items.c.site_id == self._scope,
                    import_items.c.source == self.source.value,
                    import_items.c.kind == "comment",
                    import_items.c.source_id.in_(chunk),
                )
            )
            found.update({r.source_id: (int(r.run_id), r.thread_id) for r in rows})
        return found

    def _twice_in_file(self, known: tuple[int, int | None], thread_id: int | None) -> bool:
        """Whether a comment whose source id was imported before (``known``: by which run,
        on which thread) is a second comment of the file with that id: on another page,
        or written by this run when it is no resumed one (which reads the file again)."""
        run_id, on_thread = known
        if on_thread is not None and thread_id is not None and on_thread != thread_id:
            return True
        return run_id == self._run_id and not self.summary.resumed

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

    # -- the end ------------------------------------------------------------------

    def _finish(self) -> None:
        for attempt in self._tries("finishing an import"):
            with attempt, self.db.write() as conn:
                if self.source is ImportSource.ROSTRA:
                    self._restore.check_nothing_held()
                    advance_sequences(conn)
                    forget_missing_accounts(conn)
                else:
                    self._link(conn)
                self._add_origins(conn)
                conn.execute(
                    update(import_runs).where(import_runs.c.id == self._run_id).values(
                        status=RunStatus.DONE.value, finished_at=datetime.now(UTC),
                        summary=self.summary.to_json(),
                    )
                )

    def _add_origins(self, conn: Connection) -> None:
        """Add the origins noted for sites that were there already, in the run's last
        transaction, each to the site as it is now (an origin added meanwhile stays)."""
        wanted = self._restore.origins_to_add
        if not wanted:
            return
        lock_origins(conn)  # the table before any site's row (see claim_origins)
        for site_id in sorted(wanted):
            row = conn.execute(select(sites.c.origins).where(sites.c.id == site_id)
                               .with_for_update()).first()
            if row is None:
                continue
            have = set(row.origins or ())
            gained = sorted(wanted[site_id] - have)
            if not gained:
                continue
            claim_origins(conn, gained, [site_id])
            conn.execute(update(sites).where(sites.c.id == site_id)
                         .values(origins=sorted(have | set(gained))))
            changes.record(conn, Change(ChangeKind.SITES, site_id))

    def _link(self, conn: Connection) -> None:
        linked = link_run_comments(conn, self._run_id, self._skipped_comments)
        self.summary.parents_missing = linked.missing
        if linked.skipped_parents:
            self._notice(f"{linked.skipped_parents} replies to a comment the import skipped "
                         "(see skipped) became top-level")
        if linked.missing - linked.skipped_parents:
            self._notice(f"{linked.missing - linked.skipped_parents} replies whose parent is "
                         "not in the file became top-level")
        if linked.looped:
            self._notice(f"{linked.looped} replies in a loop of parents became top-level")

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
