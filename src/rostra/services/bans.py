"""Bans: placing, lifting and extending them, and finding them again.

A ban is kept by key (an account, a keyed hash of an email address, a voter id, or an
address or network hashed in its window: ``rostra.moderation.identity``), so an email
address or an IP address is never stored in the clear. Each change is one audited
transaction and goes on the change bus (``ChangeKind.BANS``): every process drops its
view of the site's bans (``rostra.services.moderation_views``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from rostra.core.errors import InvalidInput, NotFound
from rostra.core.ids import parse_id
from rostra.moderation.identity import Hashing, email_key, network_key
from rostra.moderation.ip_hashing import window_of
from rostra.services.audit_log import record_audit
from rostra.services.moderation_views import ModerationViews
from rostra.services.serialise import iso
from rostra.services.sites import SiteService
from rostra.store import changes, queries
from rostra.store.account_tables import reader_accounts, reader_sessions
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database, attempts
from rostra.store.moderation_tables import bans


class BanKind(StrEnum):
    ACCOUNT = "account"
    EMAIL = "email"
    VOTER = "voter"
    IP = "ip"
    RANGE = "range"


@dataclass(frozen=True, slots=True)
class BanRequest:
    site_id: str
    kind: BanKind
    value: str | None = None  # an account id, email, IP address or CIDR network
    comment_id: int | None = None  # or: ban whoever wrote this comment
    wide: bool = False  # with kind range and a comment: the /16 (/32) instead of /24 (/48)
    duration_seconds: int | None = None  # None: until lifted
    reason: str | None = None
    shadow: bool = False


class BanDesk:
    """The bans half of ModerationService (which sets what is declared here)."""

    db: Database
    sites: SiteService
    hashing: Hashing
    salt: str
    views: ModerationViews

    def ban(self, request: BanRequest, *, actor: str) -> dict[str, Any]:
        """Ban (or shadow-ban) an author by account, email, voter id, IP or network."""
        self.sites.get(request.site_id)
        value, label = self._ban_key(request)
        now = datetime.now(UTC)
        expires = (
            now + timedelta(seconds=request.duration_seconds)
            if request.duration_seconds else None
        )
        # Runs again after a deadlock or a connection lost before its COMMIT (not after
        # one lost at COMMIT: it would be placed, or audited, twice).
        for attempt in attempts("a ban"):
            with attempt, self.db.write() as conn:
                if request.kind in (BanKind.IP, BanKind.RANGE) and not self.hashing.ips.holds(
                        conn, window_of(value)):
                    raise InvalidInput(
                        f"the {label} is no longer known: addresses are forgotten two weeks "
                        "after the week they were seen; ban the author's account, email "
                        "address or voter id instead")
                ban_id = conn.execute(
                    insert(bans).values(
                        site_id=request.site_id, kind=request.kind.value, value=value,
                        shadow=request.shadow, reason=request.reason, label=label[:400],
                        created_by=actor, created_at=now, expires_at=expires,
                    ).returning(bans.c.id)
                ).scalar_one()
                row = conn.execute(select(bans).where(bans.c.id == ban_id)).one()
                out = _ban_json(row)
                if value.startswith(("a:", "e:")) and not request.shadow:
                    # A banned account is signed out of every browser on the site at once (a
                    # shadow ban keeps its sessions: ending them would tell); so is every
                    # account of the site under a banned email address.
                    banned = [int(value[2:])] if value.startswith("a:") else [
                        account.id for account in conn.execute(
                            select(reader_accounts.c.id, reader_accounts.c.email).where(
                                reader_accounts.c.site_id == request.site_id,
                                reader_accounts.c.email.is_not(None)))
                        if email_key(account.email, self.salt) == value]
                    if banned:
                        conn.execute(delete(reader_sessions).where(
                            reader_sessions.c.account_id.in_(banned),
                            reader_sessions.c.site_id == request.site_id))
                record_audit(conn, actor, "shadow_ban" if request.shadow else "ban", f"ban:{ban_id}",
                             None, out, request.reason, site_id=request.site_id)
                changes.record(conn, Change(ChangeKind.BANS, request.site_id))
        self.views.bans.invalidate(request.site_id)
        return out

    def _ban_key(self, request: BanRequest) -> tuple[str, str]:
        """(stored key, label for moderators) of what a ban request names."""
        kind = request.kind
        if request.comment_id is not None:
            with self.db.read() as conn:
                row = queries.comment_row(conn, request.comment_id)
                thread = queries.thread_by_id(conn, row.thread_id) if row is not None else None
            if row is None or thread is None or thread.site_id != request.site_id:
                raise NotFound(f"no comment with id {request.comment_id} on this site")
            who = f"author of comment {row.id} ({row.author_name or 'anonymous'})"
            if kind is BanKind.ACCOUNT and row.account_id is not None:
                return f"a:{row.account_id}", who
            if kind is BanKind.EMAIL and row.author_email:
                return email_key(row.author_email, self.salt), who
            if kind is BanKind.VOTER and row.voter_id:
                return f"v:{row.voter_id}", who
            if kind is BanKind.IP and row.ip_hash:
                return f"i:{row.ip_hash}", f"address of {who}"
            ranges = ((row.moderation or {}).get("facts") or {}).get("ip_ranges") or []
            if kind is BanKind.RANGE and len(ranges) == 2:
                return ranges[1 if request.wide else 0], f"network of {who}"
            raise InvalidInput(f"comment {row.id} has no {kind.value} to ban")
        if not request.value or not request.value.strip():
            raise InvalidInput("value or comment_id: say whom to ban")
        value = request.value.strip()
        if kind is BanKind.ACCOUNT:
            account_id = parse_id(value)
            if account_id is None:
                raise InvalidInput("value: an account id")
            return f"a:{account_id}", f"account {value}"
        if kind is BanKind.EMAIL:
            if "@" not in value:
                raise InvalidInput("value: an email address")
            return email_key(value, self.salt), f"email {value[:2]}…"  # not kept in full
        if kind is BanKind.VOTER:
            return f"v:{value[:64]}", f"voter {value[:12]}…"
        try:
            key = network_key(value, self.hashing)
        except ValueError as exc:
            raise InvalidInput(f"value: {exc}") from None
        assert key is not None  # the current window always has a salt
        if kind is BanKind.IP and not key.startswith("i:"):
            raise InvalidInput("value: a single IP address (use kind range for a network)")
        if kind is BanKind.RANGE and key.startswith("i:"):
            raise InvalidInput("value: a network such as 203.0.113.0/24")
        return key, f"{kind.value} {value}"

    def unban(self, ban_id: int, *, actor: str, reason: str | None = None,
              site_ids: list[str] | None = None) -> dict[str, Any]:
        def lift(conn: Connection, row: Row[Any]) -> None:
            if row.lifted_at is None:
                conn.execute(update(bans).where(bans.c.id == ban_id).values(
                    lifted_at=datetime.now(UTC), lifted_by=actor))

        return self._change_ban(ban_id, site_ids, lift, actor=actor, action="unban",
                                reason=reason, what="lifting a ban")

    def extend(self, ban_id: int, duration_seconds: int | None, *, actor: str,
               site_ids: list[str] | None = None) -> dict[str, Any]:
        """Let a ban run ``duration_seconds`` from now (None: until lifted); a lifted ban
        stays lifted. Audited like the ban itself."""
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=duration_seconds) if duration_seconds else None

        def prolong(conn: Connection, row: Row[Any]) -> None:
            if row.lifted_at is not None:
                raise InvalidInput(f"ban {ban_id} was lifted; place a new one instead")
            conn.execute(update(bans).where(bans.c.id == ban_id).values(expires_at=expires))

        return self._change_ban(ban_id, site_ids, prolong, actor=actor, action="extend_ban",
                                reason=None, what="extending a ban")

    def _change_ban(self, ban_id: int, site_ids: list[str] | None,
                    change: Callable[[Connection, Row[Any]], None], *, actor: str,
                    action: str, reason: str | None, what: str) -> dict[str, Any]:
        """Change a ban of ``site_ids`` (None: any site), audited, in one transaction.
        It runs again after a deadlock or a connection lost before its COMMIT (not after
        one lost at COMMIT: it would be audited twice)."""
        for attempt in attempts(what):
            with attempt, self.db.write() as conn:
                row = conn.execute(select(bans).where(bans.c.id == ban_id)).first()
                if row is None or (site_ids is not None and row.site_id not in site_ids):
                    raise NotFound(f"no ban with id {ban_id}")
                before = _ban_json(row)
                change(conn, row)
                changed = conn.execute(select(bans).where(bans.c.id == ban_id)).one()
                out = _ban_json(changed)
                record_audit(conn, actor, action, f"ban:{ban_id}", before, out, reason,
                             site_id=changed.site_id)
                changes.record(conn, Change(ChangeKind.BANS, changed.site_id))
        self.views.bans.invalidate(changed.site_id)
        return out

    def search_bans(self, site_id: str, query: str = "", *, active_only: bool = True,
                    limit: int = 200) -> list[dict[str, Any]]:
        """A site's bans, newest first, matching ``query``: an email address or an IP
        address or network finds the bans on it (they are stored only as keyed hashes);
        other words are looked for in the label, the reason and who placed it."""
        now = datetime.now(UTC)
        select_bans = select(bans).where(bans.c.site_id == site_id)
        if active_only:
            select_bans = select_bans.where(
                bans.c.lifted_at.is_(None),
                or_(bans.c.expires_at.is_(None), bans.c.expires_at > now))
        query = query.strip()[:200]
        if query:
            keys = self._search_keys(query)
            if keys:
                select_bans = select_bans.where(bans.c.value.in_(keys))
            else:
                pattern = "%" + query.lower().replace("\\", "\\\\").replace(
                    "%", "\\%").replace("_", "\\_") + "%"
                select_bans = select_bans.where(or_(
                    func.lower(bans.c.label).like(pattern, escape="\\"),
                    func.lower(bans.c.reason).like(pattern, escape="\\"),
                    func.lower(bans.c.created_by).like(pattern, escape="\\")))
        with self.db.read() as conn:
            rows = conn.execute(select_bans.order_by(bans.c.id.desc()).limit(limit)).all()
        return [_ban_json(r) for r in rows]

    def _search_keys(self, query: str) -> list[str]:
        """The ban keys an email, an IP address or a network stands for (none for words)."""
        if "@" in query and " " not in query:
            return [email_key(query, self.salt)]
        # Addresses are hashed per window: look in every window a ban is kept for.
        windows = self.hashing.ips.windows_of_bans() | {self.hashing.ips.window()}
        try:
            keys = [network_key(query, self.hashing, window=w) for w in sorted(windows)]
        except ValueError:
            return []
        return [k for k in keys if k]

    def ban_site(self, ban_id: int) -> str:
        with self.db.read() as conn:
            site_id = conn.scalar(select(bans.c.site_id).where(bans.c.id == ban_id))
        if site_id is None:
            raise NotFound(f"no ban with id {ban_id}")
        return str(site_id)

    def list_bans(self, site_id: str, *, active_only: bool = True) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        query = select(bans).where(bans.c.site_id == site_id)
        if active_only:
            query = query.where(bans.c.lifted_at.is_(None),
                                or_(bans.c.expires_at.is_(None), bans.c.expires_at > now))
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(bans.c.id.desc()).limit(1000)).all()
        return [_ban_json(r) for r in rows]


def _ban_json(row: Row[Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    active = row.lifted_at is None and (row.expires_at is None or row.expires_at > now)
    return {
        "id": row.id, "site": row.site_id, "kind": row.kind, "shadow": bool(row.shadow),
        "label": row.label, "reason": row.reason, "created_by": row.created_by,
        "created_at": iso(row.created_at), "expires_at": iso(row.expires_at),
        "lifted_at": iso(row.lifted_at), "lifted_by": row.lifted_by, "active": active,
    }
