"""Readers signed in through their site: single sign-on with a signed payload.

The host site already knows its readers. Its server signs who the reader is with the
site's sign-on secret (``rostra site sso SITE`` makes one) and the page hands the
result to the widget (``<rostra-comments sso="…">``), which sends it with every call as
``X-Rostra-SSO``. The payload is ``BASE64URL(JSON) "." BASE64URL(HMAC-SHA256(secret,
BASE64URL(JSON)))``, the JSON being ``{"id": "…", "name": "…", "email": "…",
"website": "…", "exp": unix seconds}`` (email and website optional). A valid payload
makes the request an account's: comments carry the account and its name, votes are
one per account on every device, bans and reputation follow the account.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from rostra.core.errors import Conflict, InvalidInput, Unauthorized
from rostra.core.sealing import Purpose, Sealer, Unsealable
from rostra.services.sessions import OpenSession, ReaderSessions, SignInMethod
from rostra.services.tokens import Tokens
from rostra.store import queries
from rostra.store import reader_identities as identities
from rostra.store.account_tables import reader_account_subjects, reader_accounts
from rostra.store.db import Database, attempts
from rostra.store.tables import meta

MAX_TOKEN = 4096
MAX_LIFETIME = 7 * 24 * 3600  # a payload may be valid for a week at most
SECRET_CACHE_SECONDS = 10.0  # a secret rotated by another process is found at once anyway
KNOWN_SECONDS = 600.0  # how long a signed-in reader is trusted to be stored as they were

log = logging.getLogger("rostra.sign_in")


@dataclass(frozen=True, slots=True)
class SignedInReader:
    id: int  # the account
    subject: str  # the host site's id for the person
    name: str
    email: str | None
    website: str | None
    # The site's single sign-on said "staff": true (None: not a single sign-on account).
    sso_staff: bool | None = None


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _invalid(detail: str) -> Unauthorized:
    return Unauthorized(f"sign-in: {detail}", code="sso_invalid")


def _text(data: dict[str, Any], key: str, limit: int, *, required: bool) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise _invalid(f"the payload has no {key!r}")
        return None
    if not isinstance(value, str) or len(value) > limit or any(ord(c) < 32 for c in value):
        raise _invalid(f"{key!r} must be one line of at most {limit} characters")
    return value.strip() or None


class ReaderAccounts:
    """Verifies sign-on payloads and keeps one account per (site, person)."""

    def __init__(self, db: Database, tokens: Tokens, sessions: ReaderSessions,
                 sealer: Sealer) -> None:
        self.db = db
        self.tokens = tokens
        self.sessions = sessions
        self.sealer = sealer
        self._secrets: dict[str, tuple[float, str | None | Unsealable]] = {}
        self._told: set[tuple[str, str]] = set()  # (site, stored value) logged already
        self._known: dict[tuple[str, str], tuple[float, SignedInReader]] = {}
        self._by_id: dict[int, tuple[float, SignedInReader]] = {}
        self._lock = threading.Lock()

    # -- the site's secret ---------------------------------------------------

    def secret(self, site_id: str, *, fresh: bool = False) -> str | None:
        """The site's sign-on secret (None: single sign-on is off). Raises Conflict (code
        sso_unavailable) when the stored secret cannot be opened (sealed under another
        ``secret_key``)."""
        found = self._secret(site_id, fresh=fresh)
        if isinstance(found, Unsealable):
            raise Conflict(unsealable_sso(site_id, found), code="sso_unavailable")
        return found

    def _secret(self, site_id: str, *, fresh: bool = False) -> str | None | Unsealable:
        now = time.monotonic()
        with self._lock:
            cached = self._secrets.get(site_id)
        if cached is not None and not fresh and now - cached[0] < SECRET_CACHE_SECONDS:
            return cached[1]
        with self.db.read() as conn:
            stored = conn.scalar(select(meta.c.value).where(meta.c.key == _secret_key(site_id)))
        value: str | None | Unsealable = None
        if stored is not None:
            try:
                value = self.sealer.open(stored, Purpose.SSO)
            except Unsealable as exc:
                value = exc
                self._tell(site_id, stored, exc)
        with self._lock:
            self._secrets[site_id] = (now, value)
        return value

    def _tell(self, site_id: str, stored: str, exc: Unsealable) -> None:
        """Log, once per process and stored value, why the site's sign-on is refused."""
        with self._lock:
            if (site_id, stored) in self._told:
                return
            self._told.add((site_id, stored))
        log.error("%s", unsealable_sso(site_id, exc))

    def make_secret(self, site_id: str, *, rotate: bool = False) -> str:
        """The site's sign-on secret, made on first use; ``rotate`` replaces it (payloads
        signed with the old one stop working)."""
        current = None if rotate else self.secret(site_id, fresh=True)
        if current is not None:
            return current
        value = secrets.token_urlsafe(32)
        # Replacing the secret twice leaves the one answered: it runs again even after a
        # COMMIT lost with its connection.
        for attempt in attempts("making a sign-on secret", idempotent=True):
            with attempt, self.db.write() as conn:
                conn.execute(delete(meta).where(meta.c.key == _secret_key(site_id)))
                conn.execute(insert(meta).values(key=_secret_key(site_id),
                                                 value=self.sealer.seal(value, Purpose.SSO)))
        self.secret(site_id, fresh=True)
        return value

    def disable(self, site_id: str) -> None:
        """Turn single sign-on off for the site: every payload is refused."""
        for attempt in attempts("turning single sign-on off", idempotent=True):
            with attempt, self.db.write() as conn:
                conn.execute(delete(meta).where(meta.c.key == _secret_key(site_id)))
        self.secret(site_id, fresh=True)

    # -- signing in ----------------------------------------------------------

    def reader(self, site_id: str, sso: str | None, session: str | None) -> SignedInReader | None:
        """The reader a request names: a payload the site signed, or an open session
        (OpenID Connect, email link or passkey) on this site; None for an anonymous
        reader."""
        if sso:
            return self.identify(site_id, sso)
        if session:
            return self.in_session(site_id, session)[1]
        return None

    def in_session(self, site_id: str, token: str | None) -> tuple[OpenSession, SignedInReader]:
        """The open session a token names on this site and its reader; Unauthorized
        (code session_expired) when it was ended, has expired or is another site's."""
        found = self.sessions.find(token)
        reader = self.get(found.account_id) if found is not None and (
            found.site_id == site_id) else None
        if found is None or reader is None:
            raise Unauthorized("sign-in: the session is over; please sign in again",
                               code="session_expired")
        return found, reader

    def session_for(self, site_id: str, reader: SignedInReader, method: SignInMethod, *,
                    device: str | None = None, ip: str | None = None) -> str:
        """Open a session for the reader on the site; the token the browser keeps."""
        return self.sessions.open(reader.id, site_id, method, device=device, ip=ip)

    def identify(self, site_id: str, token: str) -> SignedInReader:
        """The account a payload names; Unauthorized when it is not the site's or expired."""
        data = self._verified(site_id, token)
        subject = _text(data, "id", 255, required=True)
        name = _text(data, "name", 400, required=True)
        email = _text(data, "email", 320, required=False)
        website = _text(data, "website", 500, required=False)
        assert subject is not None and name is not None
        staff = data.get("staff", False)
        if not isinstance(staff, bool):
            raise _invalid("'staff' must be true or false")
        if email is not None and ("@" not in email or any(c.isspace() for c in email)):
            raise _invalid("'email' is not an email address")
        if website is not None and not website.lower().startswith(("http://", "https://")):
            raise InvalidInput("sign-in: 'website' must be an http or https address")
        return self.sign_in(site_id, subject, name, email, website, sso_staff=staff)

    def sign_in(self, site_id: str, subject: str, name: str, email: str | None,
                website: str | None = None, *, email_verified: bool = False,
                sso_staff: bool | None = None) -> SignedInReader:
        """The account of (site, subject), made or brought up to date. ``email_verified``:
        Rostra saw the reader own the address (an email link, a provider's word).
        ``sso_staff``: the site's single sign-on payload said whether the person is its
        staff (None: another way of signing in, which leaves that as it was)."""
        now = time.monotonic()
        with self._lock:
            known = self._known.get((site_id, subject))
        # The account is written when it is new, changed, or not seen for a while (so
        # an erasure made elsewhere is noticed and seen_at stays roughly right).
        if known is not None and now - known[0] < KNOWN_SECONDS and not email_verified and (
            known[1].name, known[1].email, known[1].website
        ) == (name, email, website) and sso_staff in (None, known[1].sso_staff):
            return known[1]
        reader = self._store(site_id, subject, name, email, website, email_verified,
                             sso_staff)
        with self._lock:
            if len(self._known) > 50_000:
                self._known.clear()
                self._by_id.clear()
            self._known[(site_id, subject)] = self._by_id[reader.id] = (now, reader)
        return reader

    def forget_cached(self, site_id: str | None = None) -> None:
        """Drop what this process remembers of the site's signed-in readers (every
        site's with None): after an erasure, here or in another process, a payload must
        make the account again rather than name the erased one."""
        with self._lock:
            if site_id is None:
                self._known.clear()
                self._by_id.clear()
                return
            for key in [k for k in self._known if k[0] == site_id]:
                del self._known[key]
            self._by_id.clear()  # ids name no site here; reading one again is cheap

    def _verified(self, site_id: str, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN or token.count(".") != 1:
            raise _invalid("not a sign-on payload")
        body, _, signature = token.partition(".")
        try:
            given = _b64decode(signature)
        except (binascii.Error, ValueError):
            raise _invalid("not a sign-on payload") from None
        for fresh in (False, True):  # a just-rotated secret is read again before refusing
            secret = self._secret(site_id, fresh=fresh)
            if isinstance(secret, Unsealable):
                if fresh:
                    raise Unauthorized("sign-in: this site's single sign-on cannot be used "
                                       "now (the server cannot read its secret; its "
                                       "administrator finds why in the server's log)",
                                       code="sso_unavailable")
                continue
            if secret is None:
                if fresh:
                    raise Unauthorized("sign-in: this site does not use single sign-on",
                                       code="sso_not_enabled")
                continue
            expected = hmac.digest(secret.encode(), body.encode(), "sha256")
            if hmac.compare_digest(given, expected):
                break
        else:
            raise _invalid("the signature is not this site's")
        try:
            data = orjson.loads(_b64decode(body))
        except (binascii.Error, ValueError, orjson.JSONDecodeError):
            raise _invalid("the payload is not base64url JSON") from None
        if not isinstance(data, dict):
            raise _invalid("the payload is not a JSON object")
        exp = data.get("exp")
        now = time.time()
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise _invalid("the payload has no 'exp' (expiry, unix seconds)")
        if exp <= now:
            raise Unauthorized("sign-in: the payload has expired; reload the page",
                               code="sso_expired")
        if exp > now + MAX_LIFETIME:
            raise _invalid("'exp' is more than a week away")
        return data

    def _store(self, site_id: str, subject: str, name: str, email: str | None,
               website: str | None, email_verified: bool,
               sso_staff: bool | None) -> SignedInReader:
        now = datetime.now(UTC)
        values: dict[str, Any] = {"name": name, "email": email, "website": website,
                                  "seen_at": now, "email_verified": email_verified}
        if sso_staff is not None:
            values["sso_staff"] = sso_staff
        # Each write runs again after a deadlock or a lost connection, even one lost at
        # COMMIT: storing the account twice stores it once (a second INSERT finds it made).
        for _ in range(2):
            try:
                for attempt in attempts("a signed-in reader's account", idempotent=True):
                    with attempt, self.db.write() as conn:
                        found = self._existing(conn, site_id, subject,
                                               email if email_verified else None, values, now)
                if found is not None:
                    return found
                for attempt in attempts("a signed-in reader's new account", idempotent=True):
                    with attempt, self.db.write() as conn:
                        account_id = conn.execute(
                            insert(reader_accounts).values(site_id=site_id, subject=subject,
                                                           created_at=now, **values)
                            .returning(reader_accounts.c.id)
                        ).scalar_one()
                return SignedInReader(account_id, subject, name, email, website, sso_staff)
            except IntegrityError:
                continue  # made (or tied) at the same moment by another worker: use theirs
        raise _invalid("the account could not be stored")

    def _existing(self, conn: Connection, site_id: str, subject: str,
                  verified_email: str | None, values: dict[str, Any],
                  now: datetime) -> SignedInReader | None:
        """The account ``subject`` signs in to, brought up to date: its own (which this
        sign-in's name, email and website update), the one it was tied to, or, for a
        sign-in that proved ``verified_email``, the site's account that proved the same
        address, which it is tied to from now on (one account per person per site). A
        tied way of signing in changes nothing but when the account was last seen."""
        own = identities.own_account(conn, site_id, subject)
        if own is not None:
            where = reader_accounts.c.id == own.id
            conn.execute(update(reader_accounts).where(where).values(**values))
            sso_staff = values.get("sso_staff")
            if sso_staff is not None and sso_staff != own.sso_staff:
                queries.staff_changed(conn, site_id)  # its badges change
            return SignedInReader(own.id, subject, values["name"], values["email"],
                                  values["website"], sso_staff)
        tied = identities.tied_account(conn, site_id, subject)
        if tied is None and verified_email is not None:
            tied = identities.account_with_verified_email(conn, site_id, verified_email)
            if tied is not None:
                conn.execute(insert(reader_account_subjects).values(
                    account_id=tied.id, site_id=site_id, subject=subject, created_at=now))
        if tied is None:
            return None
        conn.execute(update(reader_accounts).where(reader_accounts.c.id == tied.id)
                     .values(seen_at=now))
        return SignedInReader(tied.id, tied.subject, tied.name, tied.email, tied.website,
                              tied.sso_staff)

    def get(self, account_id: int) -> SignedInReader | None:
        with self._lock:
            cached = self._by_id.get(account_id)
        if cached is not None and time.monotonic() - cached[0] < KNOWN_SECONDS:
            return cached[1]
        with self.db.read() as conn:
            row = conn.execute(
                select(reader_accounts).where(reader_accounts.c.id == account_id)
            ).first()
        if row is None:
            return None
        reader = SignedInReader(row.id, row.subject, row.name, row.email, row.website,
                                row.sso_staff)
        with self._lock:
            self._by_id[reader.id] = (time.monotonic(), reader)
        return reader


def _secret_key(site_id: str) -> str:
    return f"sso_secret:{site_id}"


def unsealable_sso(site_id: str, exc: Unsealable) -> str:
    """What an operator reads when a site's sign-on secret cannot be opened."""
    return (f"single sign-on of site {site_id!r} is refused: its secret is {exc.reason}. "
            "Set secret_key back to the key it was sealed with, or re-seal it with "
            "`rostra secrets seal --previous-key-file OLD_KEY_FILE`, or make a new one "
            f"with `rostra site sso {site_id} --rotate` (and give it to the site)")
