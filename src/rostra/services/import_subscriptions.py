"""Subscriptions an import brings ("Notify of" a page's new comments, or of replies):
the addresses, created confirmed where the source had them confirmed, the
subscriptions keyed by thread, and the comments "replies" subscriptions follow."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, tuple_, update

from rostra.services.import_records import ImportedSubscription, ImportSummary
from rostra.services.subscriptions import EMAIL
from rostra.store.bulk import allocate_ids, chunks
from rostra.store.notify_tables import (
    notify_addresses,
    notify_subscription_comments,
    notify_subscriptions,
)
from rostra.store.tables import threads


def alias_source_id(key: str) -> str:
    """A fixed-length source id for a key that is not one (an alias, an address)."""
    return hashlib.sha256(key.encode()).hexdigest()


class SubscriptionImport:
    """The subscriptions half of ImportEngine (which sets what is declared here)."""

    site_id: str | None
    summary: ImportSummary
    _mapped: Callable[[Connection, str, Sequence[str]], dict[str, int]]
    _thread_id: Callable[[Connection, str], int | None]
    _remember: Callable[[Connection, list[dict[str, Any]]], None]

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
            source_id = alias_source_id(
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
        # A subscription the source had confirmed is confirmed here too (at its date), as
        # its address is; one already here gains the confirmation, never loses one.
        confirmed = {by_source[sid] for sid, w in wanted.items() if w[0].confirmed}
        for chunk in chunks(sorted(subs[k] for k in confirmed if k in subs)):
            conn.execute(update(notify_subscriptions)
                         .where(notify_subscriptions.c.id.in_(list(chunk)),
                                notify_subscriptions.c.confirmed_at.is_(None))
                         .values(confirmed_at=now))
        made: set[int] = set()
        if fresh:
            ids = allocate_ids(conn, notify_subscriptions, len(fresh))
            conn.execute(insert(notify_subscriptions), [
                {"id": new_id, "address_id": key[0], "site_id": self.site_id,
                 "thread_key": key[1], "kind": key[2],
                 "language": (first[key].language or "en")[:16], "base_url": None,
                 "created_at": first[key].created_at or now,
                 "confirmed_at": (first[key].created_at or now) if key in confirmed else None,
                 "voter_id": None, "account_id": None}
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
                {"kind": "address", "source_id": alias_source_id(email), "target_id": new_id}
                for email, new_id in zip(missing, ids, strict=True)
            ])
            self.summary.addresses_created += len(ids)
        return found
