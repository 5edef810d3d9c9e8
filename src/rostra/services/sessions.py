"""Readers' sessions, one row per signed-in browser: opened by a sign-in (OpenID
Connect, an email link or a passkey), checked on every signed-in request, listed on
the reader's account, ended one by one, all at once, by a ban or by erasure.

The browser keeps a random token; the database keeps its SHA-256 only.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, delete, insert, select, update

from rostra.moderation.ip_hashing import IpHasher
from rostra.store.account_tables import reader_sessions
from rostra.store.db import Database, attempts

SESSION_TTL = timedelta(days=30)
# seen_at is written at most this often per session (a signed-in reader's every post
# would otherwise be two writes).
SEEN_EVERY = timedelta(minutes=10)
MAX_TOKEN = 100


class SignInMethod(StrEnum):
    OIDC = "oidc"
    EMAIL = "email"
    PASSKEY = "passkey"


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One session as its owner sees it in their list."""

    id: int
    method: str
    device: str | None
    created_at: datetime
    seen_at: datetime
    expires_at: datetime
    current: bool


@dataclass(frozen=True, slots=True)
class OpenSession:
    """What a token stands for: the session row, its account and its site."""

    id: int
    account_id: int
    site_id: str
    method: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def short_device(user_agent: str | None) -> str | None:
    """The User-Agent, one line and at most 200 characters (it only tells sessions apart)."""
    if not user_agent:
        return None
    text = "".join(c for c in user_agent if c.isprintable()).strip()
    return text[:200] or None


class ReaderSessions:
    """Opens, finds and ends readers' sessions."""

    def __init__(self, db: Database, ips: IpHasher) -> None:
        self.db = db
        self.ips = ips

    def open(self, account_id: int, site_id: str, method: SignInMethod, *,
             device: str | None = None, ip: str | None = None,
             conn: Connection | None = None) -> str:
        """A new session for the account on the site; returns the token (shown once)."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        values = {
            "token_hash": token_hash(token), "account_id": account_id, "site_id": site_id,
            "method": method.value, "device": short_device(device),
            "ip_hash": self.ips.hash(ip) if ip else None,
            "created_at": now, "seen_at": now, "expires_at": now + SESSION_TTL,
        }
        if conn is not None:
            conn.execute(insert(reader_sessions).values(**values))
            return token
        # Runs again after a deadlock or a connection lost before its COMMIT (not after
        # one lost at COMMIT: the token is made once, and a second row would clash).
        for attempt in attempts("opening a session"):
            with attempt, self.db.write() as own:
                own.execute(insert(reader_sessions).values(**values))
        return token

    def find(self, token: str | None) -> OpenSession | None:
        """The open session a token names; None when unknown, ended or expired."""
        if not token or len(token) > MAX_TOKEN:
            return None
        digest = token_hash(token)
        now = datetime.now(UTC)
        with self.db.read() as conn:
            row = conn.execute(
                select(reader_sessions.c.id, reader_sessions.c.account_id,
                       reader_sessions.c.site_id, reader_sessions.c.method,
                       reader_sessions.c.seen_at, reader_sessions.c.expires_at)
                .where(reader_sessions.c.token_hash == digest)
            ).first()
        if row is None or row.expires_at <= now:
            return None
        if now - row.seen_at > SEEN_EVERY:
            # Written by whatever request the reader makes (a post, say), which must not
            # fail for it: it runs again after a deadlock or a lost connection, even one
            # lost at COMMIT (noting it twice notes it once).
            for attempt in attempts("noting a session seen", idempotent=True):
                with attempt, self.db.write() as conn:
                    conn.execute(update(reader_sessions).where(reader_sessions.c.id == row.id)
                                 .values(seen_at=now))
        return OpenSession(row.id, row.account_id, row.site_id, row.method)

    def of_account(self, account_id: int, current: int | None = None) -> list[SessionInfo]:
        """The account's open sessions, the most recently used first."""
        now = datetime.now(UTC)
        with self.db.read() as conn:
            rows = conn.execute(
                select(reader_sessions).where(reader_sessions.c.account_id == account_id,
                                              reader_sessions.c.expires_at > now)
                .order_by(reader_sessions.c.seen_at.desc(), reader_sessions.c.id.desc())
            ).all()
        return [SessionInfo(r.id, r.method, r.device, r.created_at, r.seen_at, r.expires_at,
                            r.id == current) for r in rows]

    def end(self, account_id: int, session_id: int) -> bool:
        """End one of the account's sessions; False when it has none with that id (or
        when a first try that ended it lost its COMMIT: ending twice ends once, so it
        runs again after a deadlock or any lost connection)."""
        for attempt in attempts("ending a session", idempotent=True):
            with attempt, self.db.write() as conn:
                ended = bool(conn.execute(
                    delete(reader_sessions).where(reader_sessions.c.id == session_id,
                                                  reader_sessions.c.account_id == account_id)
                ).rowcount)
        return ended

    def end_all(self, account_id: int) -> int:
        """End every session of the account; how many ended (runs again as ``end`` does)."""
        for attempt in attempts("ending an account's sessions", idempotent=True):
            with attempt, self.db.write() as conn:
                ended = int(conn.execute(delete(reader_sessions).where(
                    reader_sessions.c.account_id == account_id)).rowcount)
        return ended

    def prune(self) -> int:
        """Forget expired sessions."""
        with self.db.write() as conn:
            return int(conn.execute(delete(reader_sessions)
                                    .where(reader_sessions.c.expires_at <= datetime.now(UTC)))
                       .rowcount)
