"""Signing staff in and their sessions: a password (argon2) with an optional TOTP code,
or a passkey (rostra.services.passkeys) opening a session; attempts counted per name
and per address; sessions listed, noted as seen, ended; the last queue action kept for
undo. Session tokens and addresses are kept only as hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, delete, func, insert, or_, select, text, update

from rostra.core.errors import Forbidden, NotFound, TooManyRequests, Unauthorized
from rostra.core.sealing import Purpose, Sealer, Unsealable
from rostra.moderation.ip_hashing import IpHasher
from rostra.services.sessions import short_device
from rostra.store.db import Database, attempts
from rostra.store.staff_tables import staff_login_failures, staff_sessions, staff_users

if TYPE_CHECKING:
    from rostra.services.audit_log import Audited
    from rostra.services.staff import StaffAccount

SESSION_TTL = timedelta(hours=12)
SEEN_EVERY = timedelta(minutes=5)  # how often a session's last use is written
# Failed logins are counted over this window: per account name, and per address.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20

# OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane): about 0.1 s on a small box, so
# that a login stays quick while a stolen hash stays expensive to guess. Hashes made
# with other parameters are upgraded at the next successful login.
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Checked against when the name is unknown, so that a miss costs as long as a hit.
_DUMMY_HASH = PASSWORDS.hash(secrets.token_hex(16))

log = logging.getLogger("rostra.staff")


@dataclass(frozen=True, slots=True)
class StaffSession:
    """One open session as the account page lists it; ``handle`` names it in forms
    (the start of its token's hash: it signs no one in)."""

    handle: str
    method: str
    device: str | None
    created_at: datetime
    seen_at: datetime
    expires_at: datetime
    current: bool


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the cookie's token and whose it is."""

    token: str
    account: StaffAccount
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class _Reserved:
    """What ``_reserve`` took: the ids of the rows it wrote, and whether the account
    name was at its limit already."""

    slots: list[int]
    name_limited: bool


def login_limited() -> TooManyRequests:
    """The answer past a login limit (also to a new key's wrong codes past the name's)."""
    wait = int(LOGIN_WINDOW.total_seconds())
    return TooManyRequests(f"too many failed logins; try again in {wait // 60} minutes",
                           retry_after=wait)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffSignIn:
    """The signing-in half of StaffService (which sets what is declared here)."""

    db: Database
    ips: IpHasher
    sealer: Sealer
    _told: set[tuple[str, str]]
    _told_lock: threading.Lock
    get: Callable[[int], StaffAccount]
    _account: Callable[[Connection, Any], StaffAccount | None]

    def login(self, name: str, password: str, *, ip: str | None,
              totp_code: str | None = None, device: str | None = None) -> SignedIn:
        """Check a name, password (and TOTP code when the account has one) and open a
        session. Raises TooManyRequests after too many failures, Unauthorized otherwise;
        the message never says which part was wrong."""
        name = (name or "").strip()[:100]
        ip_hash = self.ips.hash(ip) if ip else None
        row, keys, slots, step = self._check(name, password, ip_hash, totp_code)
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires = now + SESSION_TTL
        rehashed = (PASSWORDS.hash(password) if PASSWORDS.check_needs_rehash(row.password_hash)
                    else None)
        # Opening the session runs again after a deadlock or a lost connection, even one
        # lost at COMMIT: a second try that finds the session its first opened is done.
        for attempt in attempts("signing staff in", idempotent=True):
            with attempt, self.db.write() as conn:
                # The account as it is now, locked: a password changed (or the account
                # disabled) while this one was checked ended every session, and must not
                # be followed by a session opened with the old one, nor by the old
                # password's rehash put over the new.
                now_row = conn.execute(
                    select(staff_users.c.password_hash, staff_users.c.disabled)
                    .where(staff_users.c.id == row.id).with_for_update()).first()
                if (now_row is None or now_row.disabled or now_row.password_hash
                        not in (row.password_hash, rehashed)):
                    raise Unauthorized("wrong name, password or code", code="login_failed")
                if self._opened(conn, token):
                    break  # this try's first committed (its COMMIT lost): done
                if step is not None and not self._take_step(conn, row.id, step):
                    raise Unauthorized("wrong name, password or code", code="login_failed")
                if rehashed is not None and now_row.password_hash != rehashed:
                    conn.execute(update(staff_users).where(staff_users.c.id == row.id)
                                 .values(password_hash=rehashed))
                self._open(conn, token, row.id, "password", device, ip_hash, now)
                # Success clears the name's failures and gives this attempt's slots back.
                conn.execute(delete(staff_login_failures)
                             .where(staff_login_failures.c.key == keys[0]))
                conn.execute(delete(staff_login_failures)
                             .where(staff_login_failures.c.id.in_(slots)))
        return SignedIn(token, self.get(row.id), expires)

    def reauthenticate(self, user_id: int, password: str,
                       totp_code: str | None = None) -> None:
        """Check the account's own password (and its TOTP code when it has one) before a
        change to how it signs in; counted and limited as a sign-in by its name is.
        Raises TooManyRequests or Unauthorized (code login_failed)."""
        with self.db.read() as conn:
            name = conn.scalar(select(staff_users.c.name).where(staff_users.c.id == user_id))
        if name is None:
            raise NotFound(f"no staff account with id {user_id}")
        _, _, slots, step = self._check(name, password, None, totp_code)
        # Not after a lost COMMIT: its second try would find the code's step taken.
        for attempt in attempts("checking a staff password again"):
            with attempt, self.db.write() as conn:
                if step is not None and not self._take_step(conn, user_id, step):
                    raise Unauthorized("wrong name, password or code", code="login_failed")
                conn.execute(delete(staff_login_failures)
                             .where(staff_login_failures.c.id.in_(slots)))

    def _check(self, name: str, password: str, ip_hash: str | None,
               totp_code: str | None) -> tuple[Any, list[str], list[int], int | None]:
        """The account row when the name, password and code are right, with the keys its
        attempt was counted under, the slots it took and the time step of its code (None:
        the account has no code), which the caller takes with ``_take_step`` in the
        transaction that acts on it; raises as ``login`` does."""
        keys = [f"n:{name.casefold()}"]
        # Hashed (by the caller) before any write transaction: the hasher may write the
        # window's salt, which inside our SQLite write would wait for itself.
        if ip_hash:
            keys.append(f"i:{ip_hash}")
        # The attempt takes its slot before the password is checked, and keeps it when the
        # check fails: simultaneous guesses cannot all pass a count taken before any of
        # them was recorded.
        reserved = self._reserve(keys)
        slots = reserved.slots
        # The password is checked even past the name's limit, as long for any name (a
        # dummy hash for one that does not exist): see below.
        with self.db.read() as conn:
            row = conn.execute(select(staff_users).where(staff_users.c.name == name)).first()
        ok = self._verify(row.password_hash if row is not None else _DUMMY_HASH, password or "")
        step = None
        if ok and row is not None and not row.disabled and row.totp_secret:
            try:
                step = self._step_of(self._totp_secret(row.name, row.totp_secret), totp_code)
                ok = step is not None
            except Forbidden:
                # The password was right and the fault is the server's: not a guess, so
                # the attempt gives its slots back instead of using up the name's few.
                self._release(slots)
                if reserved.name_limited:
                    raise login_limited() from None  # (past the limit it would tell a guess)
                raise
        if reserved.name_limited and (not ok or step is None):
            # Past the name's limit, only the right password with a right code gets
            # through: whoever guessed at the name from elsewhere cannot lock out an owner
            # who has a second factor, and still needs both. Anything else is answered as
            # before, never saying whether the password was right; an account without
            # codes stays locked for the window (docs/security.md).
            raise login_limited()
        if not ok or row is None or row.disabled:
            raise Unauthorized("wrong name, password or code", code="login_failed")
        return row, keys, slots, step

    @staticmethod
    def _take_step(conn: Connection, user_id: int, step: int) -> bool:
        """Record ``step`` as the account's last code's, unless a code of that step or a
        later one was taken already (False: this code is spent). One conditional UPDATE:
        of two transactions taking one step at once, the second waits on the row lock
        and then finds the condition false (PostgreSQL re-reads the row it waited for;
        SQLite writes one at a time)."""
        return bool(conn.execute(
            update(staff_users).where(
                staff_users.c.id == user_id,
                or_(staff_users.c.totp_step.is_(None), staff_users.c.totp_step < step))
            .values(totp_step=step)).rowcount)

    def open_session(self, user_id: int, method: str, *, ip: str | None,
                     device: str | None = None) -> SignedIn:
        """A new session for an account that proved itself another way (a passkey).
        Raises Unauthorized (code login_failed) when the account is disabled."""
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        ip_hash = self.ips.hash(ip) if ip else None  # before the write: see login
        for attempt in attempts("opening a staff session", idempotent=True):  # as login's
            with attempt, self.db.write() as conn:
                # Checked in the transaction that opens the session: an account disabled
                # after its proof was checked gets none (session() would refuse it anyway).
                disabled = conn.scalar(select(staff_users.c.disabled)
                                       .where(staff_users.c.id == user_id))
                if disabled is None:
                    raise NotFound(f"no staff account with id {user_id}")
                if disabled:
                    raise Unauthorized("this account is disabled", code="login_failed")
                self._open(conn, token, user_id, method, device, ip_hash, now)
        return SignedIn(token, self.get(user_id), now + SESSION_TTL)

    @staticmethod
    def _opened(conn: Connection, token: str) -> bool:
        """Whether the session ``token`` names is open: a try before this one opened it
        (its COMMIT lost with the connection, it may have committed)."""
        return conn.scalar(select(staff_sessions.c.user_id)
                           .where(staff_sessions.c.token_hash == token_hash(token))) is not None

    def _open(self, conn: Connection, token: str, user_id: int, method: str,
              device: str | None, ip_hash: str | None, now: datetime) -> None:
        """Open the session ``token`` names, unless a try before this one did."""
        digest = token_hash(token)
        if self._opened(conn, token):
            return
        conn.execute(insert(staff_sessions).values(
            token_hash=digest, user_id=user_id, created_at=now,
            expires_at=now + SESSION_TTL, last_action=None, method=method,
            device=short_device(device), ip_hash=ip_hash, seen_at=now))

    def _verify(self, digest: str, password: str) -> bool:
        try:
            return bool(PASSWORDS.verify(digest, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _totp_secret(self, name: str, stored: str) -> str:
        """The account's TOTP secret opened; Forbidden (code totp_unavailable) when it
        cannot be: the password was right, and the second factor cannot be checked, so
        the account cannot sign in with a password until it is fixed."""
        try:
            return self.sealer.open(stored, Purpose.TOTP)
        except Unsealable as exc:
            with self._told_lock:
                told = (name, stored) in self._told
                self._told.add((name, stored))
            if not told:
                self._log_unreadable(name, exc.reason)
            raise Forbidden("Your password is right, but this server cannot read your "
                            "account's second factor (its secret_key has changed). Sign in "
                            "with a passkey, or ask an administrator to turn the second "
                            f"factor off (`rostra user totp-off {name}`) and set it up again.",
                            code="totp_unavailable") from None

    @staticmethod
    def _step_of(secret: str, code: str | None) -> int | None:
        """The time step whose code ``code`` (spaces allowed) is, of now's and the one
        either side; None when it is none of theirs."""
        import pyotp

        code = (code or "").replace(" ", "")
        if not (code.isdigit() and len(code) == 6):
            return None
        totp = pyotp.TOTP(secret)
        now = totp.timecode(datetime.now(UTC))
        found = None
        for step in (now - 1, now, now + 1):  # each compared: as long for every code
            if hmac.compare_digest(totp.generate_otp(step), code):
                found = step
        return found

    @staticmethod
    def _log_unreadable(name: str, reason: str) -> None:
        log.error("staff account %r cannot sign in with a password: its TOTP secret is %s. "
                  "Set secret_key back to the key it was sealed with, or re-seal it with "
                  "`rostra secrets seal --previous-key-file OLD_KEY_FILE`, or turn its second "
                  "factor off with `rostra user totp-off %s` (its owner then sets up a new "
                  "one)", name, reason, name)

    def _reserve(self, keys: list[str]) -> _Reserved:
        """Count each key's recent attempts and record this one under each key not at its
        limit, in one transaction. Raises TooManyRequests (recording nothing) when an
        address is at its limit; a name at its limit is said in the answer instead (its
        attempt is not recorded under it: the window ends as it would have)."""
        now = datetime.now(UTC)
        since = now - LOGIN_WINDOW
        # Runs again after a deadlock or a statement's lost connection; not after a lost
        # COMMIT, whose second try would count this attempt twice.
        for attempt in attempts("counting a staff sign-in"):
            with attempt, self.db.write() as conn:
                return self._count_and_take(conn, keys, since, now)
        raise AssertionError("attempts ends with a success or an error")

    @staticmethod
    def _count_and_take(conn: Connection, keys: list[str], since: datetime,
                        now: datetime) -> _Reserved:
        if conn.dialect.name == "postgresql":
            # SQLite writes one at a time already; PostgreSQL transactions would each
            # count the others' attempts as not there yet.
            for key in sorted(keys):
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))"),
                             {"k": "rostra-login:" + key})
        over = set()
        for key in keys:
            count = conn.scalar(
                select(func.count()).select_from(staff_login_failures)
                .where(staff_login_failures.c.key == key,
                       staff_login_failures.c.created_at > since)
            ) or 0
            limit = MAX_FAILURES_PER_NAME if key.startswith("n:") else MAX_FAILURES_PER_ADDRESS
            if count >= limit:
                if not key.startswith("n:"):
                    raise login_limited()
                over.add(key)
        slots = [
            conn.execute(insert(staff_login_failures).values(key=key, created_at=now)
                         .returning(staff_login_failures.c.id)).scalar_one()
            for key in keys if key not in over
        ]
        return _Reserved(slots, bool(over))

    def _release(self, slots: list[int]) -> None:
        """Give back the slots ``_reserve`` took: the attempt counts for nothing."""
        for attempt in attempts("giving sign-in slots back", idempotent=True):
            with attempt, self.db.write() as conn:
                conn.execute(delete(staff_login_failures)
                             .where(staff_login_failures.c.id.in_(slots)))

    # -- sessions ------------------------------------------------------------

    def session(self, token: str) -> StaffAccount | None:
        """Whose session ``token`` is, or None when it is unknown, expired or disabled."""
        now = datetime.now(UTC)
        with self.db.read() as conn:
            row = conn.execute(
                select(staff_sessions.c.user_id, staff_sessions.c.expires_at,
                       staff_sessions.c.seen_at)
                .where(staff_sessions.c.token_hash == token_hash(token))
            ).first()
            if row is None or row.expires_at <= now:
                return None
            account = self._account(conn, staff_users.c.id == row.user_id)
        if account is None or account.disabled:
            return None
        if row.seen_at is None or now - row.seen_at > SEEN_EVERY:
            # Written by whatever request the person makes: it runs again after a
            # deadlock or a lost connection, even one lost at COMMIT (noted twice is
            # noted once), rather than fail that request. So do keeping the last action
            # and signing out.
            for attempt in attempts("noting a staff session seen", idempotent=True):
                with attempt, self.db.write() as conn:
                    conn.execute(update(staff_sessions)
                                 .where(staff_sessions.c.token_hash == token_hash(token))
                                 .values(seen_at=now))
        return account

    def sessions_of(self, user_id: int, current_token: str | None = None) -> list[StaffSession]:
        """The account's open sessions, most recently used first."""
        now = datetime.now(UTC)
        current = token_hash(current_token) if current_token else None
        with self.db.read() as conn:
            rows = conn.execute(
                select(staff_sessions).where(staff_sessions.c.user_id == user_id,
                                             staff_sessions.c.expires_at > now)
            ).all()
        out = [StaffSession(r.token_hash[:16], r.method or "password", r.device, r.created_at,
                            r.seen_at or r.created_at, r.expires_at, r.token_hash == current)
               for r in rows]
        return sorted(out, key=lambda s: s.seen_at, reverse=True)

    def end_session(self, user_id: int, handle: str, *,
                    audited: Audited | None = None) -> bool:
        """End one of the account's sessions, named by its handle (as listed); with
        ``audited``, the audit log says so, in the same transaction."""
        if not (len(handle) == 16 and all(c in "0123456789abcdef" for c in handle)):
            return False
        # Runs again, but not after a COMMIT lost with its connection (the second try
        # would answer that there was no such session); so does ending them all.
        for attempt in attempts("ending a staff session"):
            with attempt, self.db.write() as conn:
                ended = bool(conn.execute(delete(staff_sessions).where(
                    staff_sessions.c.user_id == user_id,
                    staff_sessions.c.token_hash.startswith(handle, autoescape=True),
                )).rowcount)
                name = conn.scalar(select(staff_users.c.name)
                                   .where(staff_users.c.id == user_id))
                if ended and audited is not None and name is not None:
                    audited.record(conn, "session_ended", f"staff:{user_id}", None,
                                   {"name": name, "session": handle}, site_id=None)
        return ended

    def end_sessions(self, user_id: int, *, keep_token: str | None = None,
                     audited: Audited | None = None) -> int:
        """End every session of the account but the one ``keep_token`` names; with
        ``audited``, how many ended is in the audit log, written in the same transaction."""
        where = staff_sessions.c.user_id == user_id
        if keep_token:
            where = where & (staff_sessions.c.token_hash != token_hash(keep_token))
        # Runs again, but not after a COMMIT lost with its connection (the second try
        # would find none to end).
        for attempt in attempts("ending staff sessions"):
            with attempt, self.db.write() as conn:
                ended = int(conn.execute(delete(staff_sessions).where(where)).rowcount)
                name = conn.scalar(select(staff_users.c.name)
                                   .where(staff_users.c.id == user_id))
                if ended and audited is not None and name is not None:
                    audited.record(conn, "sessions_ended", f"staff:{user_id}", None,
                                   {"name": name, "ended": ended}, site_id=None)
        return ended

    def logout(self, token: str) -> None:
        for attempt in attempts("signing staff out", idempotent=True):
            with attempt, self.db.write() as conn:
                conn.execute(delete(staff_sessions)
                             .where(staff_sessions.c.token_hash == token_hash(token)))

    def remember_action(self, token: str, action: dict[str, Any] | None) -> None:
        """Keep the session's last queue action (what undo reverses). Written after the
        action committed: it runs again rather than answer 500 for an action done."""
        for attempt in attempts("keeping a staff action", idempotent=True):
            with attempt, self.db.write() as conn:
                conn.execute(update(staff_sessions)
                             .where(staff_sessions.c.token_hash == token_hash(token))
                             .values(last_action=action))

    def last_action(self, token: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            value = conn.scalar(select(staff_sessions.c.last_action)
                                .where(staff_sessions.c.token_hash == token_hash(token)))
        return dict(value) if value else None

    def prune(self) -> None:
        """Forget expired sessions and failures older than the rate-limit window."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            conn.execute(delete(staff_sessions).where(staff_sessions.c.expires_at <= now))
            conn.execute(delete(staff_login_failures)
                         .where(staff_login_failures.c.created_at <= now - LOGIN_WINDOW))
