"""Staff accounts: argon2-hashed passwords, roles per site, a global admin flag, the
reader accounts staff comment with, and an optional TOTP second factor. Signing in and
sessions are rostra.services.staff_sign_in (StaffSignIn, which StaffService takes on).

Each method is one transaction.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from rostra.core.errors import Conflict, InvalidInput, NotFound
from rostra.core.sealing import Purpose, Sealer, Unsealable
from rostra.moderation.ip_hashing import IpHasher
from rostra.services.audit_log import Audited
from rostra.services.staff_sign_in import PASSWORDS, StaffSignIn, login_limited, token_hash
from rostra.store import queries
from rostra.store import reader_identities as identities
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
    # A new TOTP secret waits for its first code (set up on the account page).
    totp_pending: bool = False


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

class StaffService(StaffSignIn):
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
                    role: tuple[str, str] | None = None,
                    audited: Audited | None = None) -> StaffAccount:
        """A new staff account, with ``role`` (site id, role) given in the same transaction
        (a site that does not exist leaves no account); ``audited``: recorded in the audit
        log as it commits."""
        name = _check_name(name)
        digest = PASSWORDS.hash(_check_password(password))
        given = (role[0], _check_role(role[1])) if role is not None else None
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
                    if given is not None:
                        self._grant(conn, user_id, given[0], given[1], audited)
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
        digest = PASSWORDS.hash(_check_password(password))
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
                account_id = identities.account_id_of(conn, site_id, subject)
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
        # Not after a lost COMMIT: its second try would answer "was not tied".
        for attempt in attempts("untying a reader account from staff"):
            with attempt, self.db.write() as conn:
                where = (reader_accounts.c.id == identities.account_id_of(conn, site_id, subject),
                         reader_accounts.c.staff_user_id.is_not(None))
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
        """Give the account a new TOTP secret (base32) at once and return it; codes are
        then asked. For whoever already holds the account (tests, the operator): the
        account page goes through ``begin_totp`` and ``confirm_totp`` instead."""
        import pyotp

        secret = str(pyotp.random_base32())
        sealed = self.sealer.seal(secret, Purpose.TOTP)
        for attempt in attempts("setting a second factor", idempotent=audited is None):
            with attempt, self.db.write() as conn:
                conn.execute(update(staff_users).where(staff_users.c.id == user_id)
                             .values(totp_secret=sealed, totp_pending=None))
                _audit_own(conn, audited, "totp_on", user_id)
        return secret

    def begin_totp(self, user_id: int) -> str:
        """A new TOTP secret (base32) for the account, kept as waiting (any one waiting
        before is dropped) and returned to be shown once: it signs nothing in until
        ``confirm_totp`` takes a code from it. The caller has checked the password."""
        import pyotp

        secret = str(pyotp.random_base32())
        sealed = self.sealer.seal(secret, Purpose.TOTP)
        for attempt in attempts("keeping a new second factor", idempotent=True):
            with attempt, self.db.write() as conn:
                found = conn.execute(update(staff_users).where(staff_users.c.id == user_id)
                                     .values(totp_pending=sealed)).rowcount
        if not found:
            raise NotFound(f"no staff account with id {user_id}")
        return secret

    def confirm_totp(self, user_id: int, code: str | None, *, keep_token: str | None = None,
                     audited: Audited | None = None) -> None:
        """Make the account's waiting TOTP secret its second factor, given a code from
        it; every session but ``keep_token``'s ends (they were not asked for it).
        Wrong codes are counted against the account's name as failed sign-ins are.
        Raises InvalidInput when no secret waits or the code is not its."""
        with self.db.read() as conn:
            row = conn.execute(select(staff_users.c.name, staff_users.c.totp_pending)
                               .where(staff_users.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"no staff account with id {user_id}")
        if row.totp_pending is None:
            raise InvalidInput("no new authenticator key is waiting; set one up again")
        reserved = self._reserve([f"n:{row.name.casefold()}"])
        if reserved.name_limited:
            raise login_limited()
        slots = reserved.slots
        try:
            secret = self.sealer.open(row.totp_pending, Purpose.TOTP)
        except Unsealable:  # secret_key changed since: nothing to confirm, not a guess
            self._release(slots)
            raise InvalidInput("this server can no longer read the new key; set one up "
                               "again") from None
        step = self._step_of(secret, code)
        if step is None:
            raise InvalidInput("that code is not one of the new key's; try the code your "
                               "app shows now")
        for attempt in attempts("confirming a second factor", idempotent=audited is None):
            with attempt, self.db.write() as conn:
                changed = conn.execute(
                    update(staff_users).where(staff_users.c.id == user_id,
                                              staff_users.c.totp_pending == row.totp_pending)
                    .values(totp_secret=row.totp_pending, totp_pending=None)).rowcount
                if not changed:  # replaced, or confirmed meanwhile: this code is not its
                    raise InvalidInput("no new authenticator key is waiting; set one up again")
                self._take_step(conn, user_id, step)  # (a later step taken already: kept)
                self._end_others(conn, user_id, keep_token)
                conn.execute(delete(staff_login_failures)
                             .where(staff_login_failures.c.id.in_(slots)))
                _audit_own(conn, audited, "totp_on", user_id)

    def disable_totp(self, user_id: int, *, keep_token: str | None = None,
                     audited: Audited | None = None) -> None:
        """Drop the account's second factor (and any new one waiting); every session
        but ``keep_token``'s ends. The account page checks the password and code first."""
        for attempt in attempts("dropping a second factor", idempotent=audited is None):
            with attempt, self.db.write() as conn:
                conn.execute(update(staff_users).where(staff_users.c.id == user_id)
                             .values(totp_secret=None, totp_pending=None))
                self._end_others(conn, user_id, keep_token)
                _audit_own(conn, audited, "totp_off", user_id)

    @staticmethod
    def _end_others(conn: Connection, user_id: int, keep_token: str | None) -> None:
        where = staff_sessions.c.user_id == user_id
        if keep_token:
            where = where & (staff_sessions.c.token_hash != token_hash(keep_token))
        conn.execute(delete(staff_sessions).where(where))

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
            totp_pending=bool(row.totp_pending),
        )
