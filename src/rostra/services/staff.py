"""Staff accounts: argon2-hashed passwords, roles per site, a global admin flag,
browser sessions, login rate limiting and an optional TOTP second factor.

Each method is one transaction. Session tokens and addresses are kept only as hashes.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from rostra.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from rostra.core.sealing import Purpose, Sealer, Unsealable
from rostra.moderation.ip_hashing import IpHasher
from rostra.services.audit_log import Audited
from rostra.services.sessions import short_device
from rostra.store import queries
from rostra.store.account_tables import reader_accounts
from rostra.store.db import Database, attempts
from rostra.store.staff_tables import (
    staff_login_failures,
    staff_roles,
    staff_sessions,
    staff_users,
)
from rostra.store.tables import sites

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$")
MIN_PASSWORD = 10
ROLES = ("owner", "moderator")
SESSION_TTL = timedelta(hours=12)
SEEN_EVERY = timedelta(minutes=5)  # how often a session's last use is written
# Failed logins are counted over this window: per account name, and per address.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20

# OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane): about 0.1 s on a small box, so
# that a login stays quick while a stolen hash stays expensive to guess. Hashes made
# with other parameters are upgraded at the next successful login.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Checked against when the name is unknown, so that a miss costs as long as a hit.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

log = logging.getLogger("rostra.staff")


@dataclass(frozen=True, slots=True)
class StaffAccount:
    """A staff member as the workspace sees them; ``roles`` maps site id to role."""

    id: int
    name: str
    is_admin: bool
    totp: bool
    disabled: bool
    created_at: datetime
    roles: dict[str, str] = field(default_factory=dict)


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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME.match(name):
        raise InvalidInput(
            "name: 2-100 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    return name


def _check_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > 1000:
        raise InvalidInput("password: at most 1000 characters")
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"role: must be one of {', '.join(ROLES)}")
    return role



def _audit_own(conn: Connection, audited: Audited | None, action: str, user_id: int) -> None:
    """An account's own change in the audit log (about no site: administrators see it),
    naming the account; what changed is in the action, never a secret."""
    if audited is None:
        return
    name = conn.scalar(select(staff_users.c.name).where(staff_users.c.id == user_id))
    if name is not None:  # (no such account: nothing changed)
        audited.record(conn, action, f"staff:{user_id}", None, {"name": name}, site_id=None)

class StaffService:
    """Creates staff accounts, signs them in and answers who a session belongs to."""

    def __init__(self, db: Database, ips: IpHasher, sealer: Sealer) -> None:
        self.db = db
        self.ips = ips
        self.sealer = sealer
        # (name, stored secret) whose unreadable TOTP secret was logged: once per process,
        # as whoever holds the password may try as often as they like.
        self._told: set[tuple[str, str]] = set()
        self._told_lock = threading.Lock()

    # -- accounts ------------------------------------------------------------

    def create_user(self, name: str, password: str, *, is_admin: bool = False,
                    audited: Audited | None = None) -> StaffAccount:
        """A new staff account; ``audited``: recorded in the audit log as it commits."""
        name = _check_name(name)
        digest = _hasher.hash(_check_password(password))
        try:
            # Runs again after a deadlock or a statement's lost connection; not after a
            # lost COMMIT, whose second try would find the name taken by its first.
            for attempt in attempts("making a staff account"):
                with attempt, self.db.write() as conn:
                    user_id = conn.execute(
                        insert(staff_users).values(
                            name=name, password_hash=digest, is_admin=is_admin,
                            totp_secret=None, disabled=False, created_at=datetime.now(UTC),
                        ).returning(staff_users.c.id)
                    ).scalar_one()
                    if audited is not None:
                        audited.record(conn, "staff_create", f"staff:{user_id}", None,
                                       {"name": name, "admin": is_admin}, site_id=None)
        except IntegrityError:
            raise Conflict(f"a staff account named {name!r} exists already") from None
        return self.get(user_id)

    def get(self, user_id: int) -> StaffAccount:
        with self.db.read() as conn:
            account = self._account(conn, staff_users.c.id == user_id)
        if account is None:
            raise NotFound(f"no staff account with id {user_id}")
        return account

    def by_name(self, name: str) -> StaffAccount:
        with self.db.read() as conn:
            account = self._account(conn, staff_users.c.name == name.strip())
        if account is None:
            raise NotFound(f"no staff account named {name[:100]!r}")
        return account

    def list_users(self) -> list[StaffAccount]:
        with self.db.read() as conn:
            rows = conn.execute(select(staff_users).order_by(staff_users.c.name)).all()
            roles = self._roles(conn, [r.id for r in rows])
        return [self._from_row(r, roles.get(r.id, {})) for r in rows]

    def set_password(self, user_id: int, password: str, *,
                     audited: Audited | None = None) -> None:
        """A new password (its sessions end). ``audited``, as for each of the account's
        own changes: recorded in the audit log (never the secret) as it commits."""
        digest = _hasher.hash(_check_password(password))
        # The account's own changes (a password, being disabled, a second factor) run
        # again after a deadlock or a lost connection, even one lost at COMMIT unless
        # audited: each sets what it sets, and done twice is done once.
        for attempt in attempts("setting a staff password", idempotent=audited is None):
            with attempt, self.db.write() as conn:
                found = conn.execute(
                    update(staff_users).where(staff_users.c.id == user_id)
                    .values(password_hash=digest)
                ).rowcount
                # A new password ends every session signed in with the old one.
                conn.execute(delete(staff_sessions).where(staff_sessions.c.user_id == user_id))
                if found:
                    _audit_own(conn, audited, "staff_password", user_id)
        if not found:
            raise NotFound(f"no staff account with id {user_id}")

    def set_disabled(self, user_id: int, disabled: bool, *,
                     audited: Audited | None = None) -> StaffAccount:
        for attempt in attempts("disabling staff", idempotent=audited is None):
            with attempt, self.db.write() as conn:
                conn.execute(update(staff_users).where(staff_users.c.id == user_id)
                             .values(disabled=disabled))
                _audit_own(conn, audited, "staff_disable" if disabled else "staff_enable",
                           user_id)
                if disabled:
                    conn.execute(delete(staff_sessions)
                                 .where(staff_sessions.c.user_id == user_id))
                for site_id in conn.scalars(select(reader_accounts.c.site_id).distinct().where(
                        reader_accounts.c.staff_user_id == user_id)):
                    queries.staff_changed(conn, site_id)  # their "Staff" badges come or go
        return self.get(user_id)

    def grant(self, user_id: int, site_id: str, role: str | None, *,
              audited: Audited | None = None) -> StaffAccount:
        """Give ``user_id`` a role on ``site_id``; None takes their role there away.
        ``audited``: recorded in the audit log as it commits."""
        # A role, a tied reader account: each sets what it sets, so it also runs again
        # after a lost COMMIT, unless audited (the entry would be written twice).
        given = _check_role(role) if role is not None else None
        for attempt in attempts("granting a role", idempotent=audited is None):
            with attempt, self.db.write() as conn:
                self._grant(conn, user_id, site_id, given, audited)
        return self.get(user_id)

    def _grant(self, conn: Connection, user_id: int, site_id: str, given: str | None,
               audited: Audited | None) -> None:
        if conn.scalar(select(sites.c.id).where(sites.c.id == site_id)) is None:
            raise NotFound(f"no site with id {site_id[:64]!r}", code="site_not_found")
        name = conn.scalar(select(staff_users.c.name).where(staff_users.c.id == user_id))
        if name is None:
            raise NotFound(f"no staff account with id {user_id}")
        was = conn.scalar(select(staff_roles.c.role).where(
            staff_roles.c.user_id == user_id, staff_roles.c.site_id == site_id))
        conn.execute(delete(staff_roles).where(staff_roles.c.user_id == user_id,
                                               staff_roles.c.site_id == site_id))
        if given is not None:
            conn.execute(insert(staff_roles).values(
                user_id=user_id, site_id=site_id, role=given))
        queries.staff_changed(conn, site_id)
        if audited is not None:
            audited.record(conn, "grant", f"site:{site_id}", {"user": name, "role": was},
                           {"user": name, "role": given}, site_id=site_id)

    # -- the reader accounts staff comment with --------------------------------

    def link_reader(self, user_id: int, site_id: str, subject: str, *,
                    audited: Audited | None = None) -> int:
        """Tie the site's reader account ``subject`` (``email:ed@example.org``,
        ``google:1234``, or the site's own single sign-on id) to a staff user: while the
        user has a role on the site, the account's comments carry the "Staff" badge.
        Returns the account's id. The account must exist: the person signed in with it
        at least once, which is what proves the identity is theirs."""
        subject = subject.strip()
        for attempt in attempts("tying a reader account to staff",
                                idempotent=audited is None):
            with attempt, self.db.write() as conn:
                name = conn.scalar(select(staff_users.c.name).where(staff_users.c.id == user_id))
                if name is None:
                    raise NotFound(f"no staff account with id {user_id}")
                account_id = conn.scalar(select(reader_accounts.c.id).where(
                    reader_accounts.c.site_id == site_id, reader_accounts.c.subject == subject))
                if account_id is None:
                    raise NotFound(
                        f"no reader account {subject[:255]!r} on site {site_id[:64]!r}: its "
                        "owner signs in to comment once first")
                tied = int(account_id)
                conn.execute(update(reader_accounts).where(reader_accounts.c.id == tied)
                             .values(staff_user_id=user_id))
                queries.staff_changed(conn, site_id)
                if audited is not None:
                    audited.record(conn, "staff_reader", f"site:{site_id}", None,
                                   {"user": name, "reader": subject}, site_id=site_id)
        return tied

    def unlink_reader(self, site_id: str, subject: str, *,
                      audited: Audited | None = None) -> bool:
        """Untie a reader account from its staff user; False when it was not tied.
        ``audited``: recorded in the audit log, with the user it was tied to."""
        subject = subject.strip()
        where = (reader_accounts.c.site_id == site_id, reader_accounts.c.subject == subject,
                 reader_accounts.c.staff_user_id.is_not(None))
        # Not after a lost COMMIT: its second try would answer "was not tied".
        for attempt in attempts("untying a reader account from staff"):
            with attempt, self.db.write() as conn:
                name = conn.scalar(select(staff_users.c.name).join(
                    reader_accounts, reader_accounts.c.staff_user_id == staff_users.c.id)
                    .where(*where))
                done = conn.execute(update(reader_accounts).where(*where)
                                    .values(staff_user_id=None)).rowcount
                if done:
                    queries.staff_changed(conn, site_id)
                    if audited is not None:
                        audited.record(conn, "staff_reader", f"site:{site_id}",
                                       {"user": name, "reader": subject}, None, site_id=site_id)
        return bool(done)

    def linked_readers(self, user_id: int) -> list[tuple[str, str]]:
        """(site id, subject) of the reader accounts tied to the staff user."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(reader_accounts.c.site_id, reader_accounts.c.subject)
                .where(reader_accounts.c.staff_user_id == user_id)
                .order_by(reader_accounts.c.site_id, reader_accounts.c.subject)).all()
        return [(r.site_id, r.subject) for r in rows]

    def readers_tied_on(self, site_id: str) -> dict[int, list[str]]:
        """Staff user id -> subjects of the site's reader accounts tied to them, in one
        query (the Staff page shows every member's)."""
        tied: dict[int, list[str]] = {}
        with self.db.read() as conn:
            rows = conn.execute(
                select(reader_accounts.c.staff_user_id, reader_accounts.c.subject)
                .where(reader_accounts.c.site_id == site_id,
                       reader_accounts.c.staff_user_id.is_not(None))
                .order_by(reader_accounts.c.subject)).all()
        for row in rows:
            tied.setdefault(int(row.staff_user_id), []).append(row.subject)
        return tied

    # -- second factor -------------------------------------------------------

    def enable_totp(self, user_id: int, *, audited: Audited | None = None) -> str:
        """Give the account a new TOTP secret (base32) and return it; codes are then asked."""
        import pyotp

        secret = str(pyotp.random_base32())
        sealed = self.sealer.seal(secret, Purpose.TOTP)
        for attempt in attempts("setting a second factor", idempotent=audited is None):
            with attempt, self.db.write() as conn:
                conn.execute(update(staff_users).where(staff_users.c.id == user_id)
                             .values(totp_secret=sealed))
                _audit_own(conn, audited, "totp_on", user_id)
        return secret

    def disable_totp(self, user_id: int, *, audited: Audited | None = None) -> None:
        for attempt in attempts("dropping a second factor", idempotent=audited is None):
            with attempt, self.db.write() as conn:
                conn.execute(update(staff_users).where(staff_users.c.id == user_id)
                             .values(totp_secret=None))
                _audit_own(conn, audited, "totp_off", user_id)

    # -- signing in ----------------------------------------------------------

    def login(self, name: str, password: str, *, ip: str | None,
              totp_code: str | None = None, device: str | None = None) -> SignedIn:
        """Check a name, password (and TOTP code when the account has one) and open a
        session. Raises TooManyRequests after too many failures, Unauthorized otherwise;
        the message never says which part was wrong."""
        name = (name or "").strip()[:100]
        keys = [f"n:{name.casefold()}"]
        # Hashed before any write transaction: the hasher may write the window's salt,
        # which inside our SQLite write would wait for itself.
        ip_hash = self.ips.hash(ip) if ip else None
        if ip_hash:
            keys.append(f"i:{ip_hash}")
        # The attempt takes its slot before the password is checked, and keeps it when the
        # check fails: simultaneous guesses cannot all pass a count taken before any of
        # them was recorded.
        slots = self._reserve(keys)
        with self.db.read() as conn:
            row = conn.execute(select(staff_users).where(staff_users.c.name == name)).first()
        ok = self._verify(row.password_hash if row is not None else _DUMMY_HASH, password or "")
        if ok and row is not None and not row.disabled and row.totp_secret:
            try:
                ok = self._totp_ok(row.name, row.totp_secret, totp_code)
            except Forbidden:
                # The password was right and the fault is the server's: not a guess, so
                # the attempt gives its slots back instead of using up the name's few.
                self._release(slots)
                raise
        if not ok or row is None or row.disabled:
            raise Unauthorized("wrong name, password or code", code="login_failed")
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires = now + SESSION_TTL
        rehashed = (_hasher.hash(password) if _hasher.check_needs_rehash(row.password_hash)
                    else None)
        # Opening the session runs again after a deadlock or a lost connection, even one
        # lost at COMMIT: a second try that finds the session its first opened is done.
        for attempt in attempts("signing staff in", idempotent=True):
            with attempt, self.db.write() as conn:
                if rehashed is not None:
                    conn.execute(update(staff_users).where(staff_users.c.id == row.id)
                                 .values(password_hash=rehashed))
                self._open(conn, token, row.id, "password", device, ip_hash, now)
                # Success clears the name's failures and gives this attempt's slots back.
                conn.execute(delete(staff_login_failures)
                             .where(staff_login_failures.c.key == keys[0]))
                conn.execute(delete(staff_login_failures)
                             .where(staff_login_failures.c.id.in_(slots)))
        return SignedIn(token, self.get(row.id), expires)

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

    def _open(self, conn: Connection, token: str, user_id: int, method: str,
              device: str | None, ip_hash: str | None, now: datetime) -> None:
        """Open the session ``token`` names, unless a try before this one did (its
        COMMIT lost with the connection, it may have committed)."""
        digest = _token_hash(token)
        if conn.scalar(select(staff_sessions.c.user_id)
                       .where(staff_sessions.c.token_hash == digest)) is not None:
            return
        conn.execute(insert(staff_sessions).values(
            token_hash=digest, user_id=user_id, created_at=now,
            expires_at=now + SESSION_TTL, last_action=None, method=method,
            device=short_device(device), ip_hash=ip_hash, seen_at=now))

    def _verify(self, digest: str, password: str) -> bool:
        try:
            return bool(_hasher.verify(digest, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _totp_ok(self, name: str, stored: str, code: str | None) -> bool:
        """Whether the code is the account's; Forbidden (code totp_unavailable) when its
        secret cannot be opened: the password was right, and the second factor cannot
        be checked, so the account cannot sign in with a password until it is fixed."""
        import pyotp

        try:
            secret = self.sealer.open(stored, Purpose.TOTP)
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
        code = (code or "").replace(" ", "")
        return bool(code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=1))

    @staticmethod
    def _log_unreadable(name: str, reason: str) -> None:
        log.error("staff account %r cannot sign in with a password: its TOTP secret is %s. "
                  "Set secret_key back to the key it was sealed with, or re-seal it with "
                  "`rostra secrets seal --previous-key-file OLD_KEY_FILE`, or turn its second "
                  "factor off with `rostra user totp-off %s` (its owner then sets up a new "
                  "one)", name, reason, name)

    def _reserve(self, keys: list[str]) -> list[int]:
        """Count each key's recent attempts and, when every key is under its limit, record
        this one, in one transaction; returns the ids of the rows it wrote. Raises
        TooManyRequests (recording nothing) when a key is at its limit."""
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
                        now: datetime) -> list[int]:
        if conn.dialect.name == "postgresql":
            # SQLite writes one at a time already; PostgreSQL transactions would each
            # count the others' attempts as not there yet.
            for key in sorted(keys):
                conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))"),
                             {"k": "rostra-login:" + key})
        for key in keys:
            count = conn.scalar(
                select(func.count()).select_from(staff_login_failures)
                .where(staff_login_failures.c.key == key,
                       staff_login_failures.c.created_at > since)
            ) or 0
            limit = MAX_FAILURES_PER_NAME if key.startswith("n:") else MAX_FAILURES_PER_ADDRESS
            if count >= limit:
                wait = int(LOGIN_WINDOW.total_seconds())
                raise TooManyRequests(
                    f"too many failed logins; try again in {wait // 60} minutes",
                    retry_after=wait,
                )
        return [
            conn.execute(insert(staff_login_failures).values(key=key, created_at=now)
                         .returning(staff_login_failures.c.id)).scalar_one()
            for key in keys
        ]

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
                .where(staff_sessions.c.token_hash == _token_hash(token))
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
                                 .where(staff_sessions.c.token_hash == _token_hash(token))
                                 .values(seen_at=now))
        return account

    def sessions_of(self, user_id: int, current_token: str | None = None) -> list[StaffSession]:
        """The account's open sessions, most recently used first."""
        now = datetime.now(UTC)
        current = _token_hash(current_token) if current_token else None
        with self.db.read() as conn:
            rows = conn.execute(
                select(staff_sessions).where(staff_sessions.c.user_id == user_id,
                                             staff_sessions.c.expires_at > now)
            ).all()
        out = [StaffSession(r.token_hash[:16], r.method or "password", r.device, r.created_at,
                            r.seen_at or r.created_at, r.expires_at, r.token_hash == current)
               for r in rows]
        return sorted(out, key=lambda s: s.seen_at, reverse=True)

    def end_session(self, user_id: int, handle: str) -> bool:
        """End one of the account's sessions, named by its handle (as listed)."""
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
        return ended

    def end_sessions(self, user_id: int, *, keep_token: str | None = None) -> int:
        """End every session of the account but the one ``keep_token`` names."""
        where = staff_sessions.c.user_id == user_id
        if keep_token:
            where = where & (staff_sessions.c.token_hash != _token_hash(keep_token))
        for attempt in attempts("ending staff sessions"):
            with attempt, self.db.write() as conn:
                ended = int(conn.execute(delete(staff_sessions).where(where)).rowcount)
        return ended

    def logout(self, token: str) -> None:
        for attempt in attempts("signing staff out", idempotent=True):
            with attempt, self.db.write() as conn:
                conn.execute(delete(staff_sessions)
                             .where(staff_sessions.c.token_hash == _token_hash(token)))

    def remember_action(self, token: str, action: dict[str, Any] | None) -> None:
        """Keep the session's last queue action (what undo reverses). Written after the
        action committed: it runs again rather than answer 500 for an action done."""
        for attempt in attempts("keeping a staff action", idempotent=True):
            with attempt, self.db.write() as conn:
                conn.execute(update(staff_sessions)
                             .where(staff_sessions.c.token_hash == _token_hash(token))
                             .values(last_action=action))

    def last_action(self, token: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            value = conn.scalar(select(staff_sessions.c.last_action)
                                .where(staff_sessions.c.token_hash == _token_hash(token)))
        return dict(value) if value else None

    def prune(self) -> None:
        """Forget expired sessions and failures older than the rate-limit window."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            conn.execute(delete(staff_sessions).where(staff_sessions.c.expires_at <= now))
            conn.execute(delete(staff_login_failures)
                         .where(staff_login_failures.c.created_at <= now - LOGIN_WINDOW))

    # -- rows ----------------------------------------------------------------

    def _account(self, conn: Connection, where: Any) -> StaffAccount | None:
        row = conn.execute(select(staff_users).where(where)).first()
        if row is None:
            return None
        return self._from_row(row, self._roles(conn, [row.id]).get(row.id, {}))

    def _roles(self, conn: Connection, user_ids: list[int]) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {}
        if not user_ids:
            return out
        for r in conn.execute(select(staff_roles).where(staff_roles.c.user_id.in_(user_ids))):
            out.setdefault(r.user_id, {})[r.site_id] = r.role
        return out

    def _from_row(self, row: Any, roles: dict[str, str]) -> StaffAccount:
        return StaffAccount(
            id=row.id, name=row.name, is_admin=bool(row.is_admin), totp=bool(row.totp_secret),
            disabled=bool(row.disabled), created_at=row.created_at, roles=dict(roles),
        )
