"""Passkeys (WebAuthn) for readers and staff, checked with py_webauthn.

A ceremony has two steps. ``…_options`` makes a challenge, keeps it (once, five
minutes) under a random handle, and returns the options the browser passes to
``navigator.credentials.create()`` or ``.get()``; the second step takes the handle and
the browser's answer, uses the challenge up and verifies the answer against it, the
origin the request came from and the relying party's domain.

A reader's passkey belongs to their account on one site and works on the domain of the
site's page it was made on (the widget runs in the site's pages); a staff member's
works on the domain of ``public_url``, where the admin runs. Signing in needs the
passkey alone: the credentials are discoverable, so no name is typed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import case, delete, func, insert, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from rostra.core.errors import Forbidden, InvalidInput, NotFound, RostraError
from rostra.services.accounts import ReaderAccounts, SignedInReader
from rostra.services.audit_log import Audited
from rostra.services.sessions import SignInMethod
from rostra.services.site_cache import PerSite
from rostra.services.sites import SiteService
from rostra.store import changes
from rostra.store.account_tables import reader_accounts
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database, attempts
from rostra.store.passkey_tables import passkeys, webauthn_challenges

CHALLENGE_TTL = timedelta(minutes=5)
MAX_PER_OWNER = 20
MAX_CREDENTIAL = 64 * 1024  # the browser's answer, as JSON


class PasskeyFailed(RostraError):
    status = 400
    code = "passkey_failed"
    title = "The passkey could not be used"


@dataclass(frozen=True, slots=True)
class Ceremony:
    """A begun registration or sign-in: the handle to send back, and the options."""

    handle: str
    options: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PasskeyInfo:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _hash(value: str | bytes) -> str:
    return hashlib.sha256(value if isinstance(value, bytes) else value.encode()).hexdigest()


def _user_handle(kind: str, owner_id: int) -> bytes:
    # Stable per account, so that the same authenticator registered twice replaces its
    # first credential; no personal data in it.
    return hashlib.sha256(f"rostra-{kind}:{owner_id}".encode()).digest()[:16]


def host_of(origin: str) -> str:
    host = urlsplit(origin).hostname
    if not host:
        raise InvalidInput("origin: not a web origin")
    return host


def _label(name: str | None, device: str | None) -> str:
    text = "".join(c for c in (name or "") if c.isprintable()).strip()[:100]
    if text:
        return text
    return f"Passkey ({(device or 'unknown browser')[:80]})"


def _credential(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise PasskeyFailed("not a passkey answer")
    try:
        size = len(orjson.dumps(data))
    except (TypeError, orjson.JSONEncodeError):  # numbers JSON allows and we cannot hold
        raise PasskeyFailed("not a passkey answer") from None
    if size > MAX_CREDENTIAL:
        raise PasskeyFailed("the passkey answer is too large")
    return data


class Passkeys:
    """Registers passkeys and signs in with them; lists and removes them."""

    def __init__(self, db: Database, sites: SiteService, accounts: ReaderAccounts) -> None:
        self.db = db
        self.sites = sites
        self.accounts = accounts
        # Whether the site's readers have any (GET /auth/providers, on every widget load);
        # forgotten on SIGN_IN changes, which a reader's passkey added or removed makes.
        self.cache: PerSite[bool] = PerSite(self._site_has_any)

    # -- challenges ------------------------------------------------------------

    def _begin(self, purpose: str, challenge: bytes, options: Any) -> Ceremony:
        handle = secrets.token_urlsafe(24)
        now = datetime.now(UTC)
        # Each write of a ceremony runs again after a deadlock or a connection lost
        # before its COMMIT (PostgreSQL restarting or failing over); only the sign-in's
        # count also after one lost at COMMIT (the others would find their work done:
        # the challenge kept or used up, the passkey registered, and refuse).
        for attempt in attempts("beginning a passkey ceremony"):
            with attempt, self.db.write() as conn:
                conn.execute(delete(webauthn_challenges)
                             .where(webauthn_challenges.c.expires_at <= now))
                conn.execute(insert(webauthn_challenges).values(
                    id=_hash(handle), challenge=challenge, purpose=purpose,
                    expires_at=now + CHALLENGE_TTL))
        return Ceremony(handle, orjson.loads(options_to_json(options)))

    def _take(self, handle: str | None, purpose: str) -> bytes:
        """The challenge kept under ``handle`` for ``purpose``, used up; PasskeyFailed
        when there is none (unknown, expired, used, or begun for something else)."""
        if not handle or len(handle) > 100:
            raise PasskeyFailed("this passkey request has expired; please try again")
        # Used up by the DELETE that returns it: of two answers to one challenge at
        # once, the second finds it gone (reading it first, both took it).
        for attempt in attempts("using a passkey challenge"):
            with attempt, self.db.write() as conn:
                row = conn.execute(delete(webauthn_challenges).where(
                    webauthn_challenges.c.id == _hash(handle))
                    .returning(*webauthn_challenges.c)).first()
        if (row is None or row.purpose != purpose
                or row.expires_at <= datetime.now(UTC)):
            raise PasskeyFailed("this passkey request has expired; please try again")
        return bytes(row.challenge)

    # -- registering -------------------------------------------------------------

    def _registration(self, purpose: str, *, rp_id: str, rp_name: str, owner: str,
                      owner_id: int, user_name: str, existing: list[str]) -> Ceremony:
        challenge = secrets.token_bytes(32)
        options = generate_registration_options(
            rp_id=rp_id, rp_name=rp_name[:100], user_name=user_name[:100] or "reader",
            user_display_name=user_name[:100] or "reader", user_id=_user_handle(owner, owner_id),
            challenge=challenge,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(c))
                                 for c in existing],
        )
        return self._begin(purpose, challenge, options)

    def _register(self, purpose: str, handle: str, credential: Any, *, rp_id: str,
                  origin: str, owner: dict[str, int], name: str | None,
                  device: str | None, site_id: str | None = None,
                  audited: Audited | None = None) -> PasskeyInfo:
        """Keep the passkey the ceremony made; ``site_id``: a reader's, of that site;
        ``audited``: a staff member's, recorded in the audit log as it commits."""
        data = _credential(credential)
        challenge = self._take(handle, purpose)
        try:
            verified = verify_registration_response(
                credential=data, expected_challenge=challenge, expected_rp_id=rp_id,
                expected_origin=origin)
        except Exception as exc:  # noqa: BLE001 - whatever the parser trips on: no passkey
            raise PasskeyFailed(f"the passkey could not be checked: {exc}"[:300]) from None
        now = datetime.now(UTC)
        response = data.get("response")
        transports = response.get("transports") if isinstance(response, dict) else None
        column, owner_id = next(iter(owner.items()))
        for attempt in attempts("registering a passkey"):
            with attempt, self.db.write() as conn:
                count = conn.scalar(select(func.count()).select_from(passkeys)
                                    .where(passkeys.c[column] == owner_id)) or 0
                if count >= MAX_PER_OWNER:
                    raise InvalidInput(f"at most {MAX_PER_OWNER} passkeys per account")
                credential_id = bytes_to_base64url(verified.credential_id)
                taken = conn.scalar(select(passkeys.c.id).where(
                    passkeys.c.credential_hash == _hash(verified.credential_id)))
                if taken is not None:
                    raise PasskeyFailed("this passkey is registered already")
                label = _label(name, device)
                passkey_id = conn.execute(insert(passkeys).values(
                    credential_hash=_hash(verified.credential_id), credential_id=credential_id,
                    public_key=verified.credential_public_key, sign_count=verified.sign_count,
                    transports=transports if isinstance(transports, list) else None,
                    rp_id=rp_id, name=label, created_at=now, last_used_at=None, **owner,
                ).returning(passkeys.c.id)).scalar_one()
                if site_id is not None:
                    changes.record(conn, Change(ChangeKind.SIGN_IN, site_id))
                if audited is not None:
                    audited.record(conn, "passkey_added", f"staff:{owner_id}", None,
                                   {"passkey": passkey_id, "name": label}, site_id=None)
        return PasskeyInfo(passkey_id, label, now, None)

    # -- signing in -----------------------------------------------------------------

    def _sign_in_options(self, purpose: str, rp_id: str, *, required: bool) -> Ceremony:
        challenge = secrets.token_bytes(32)
        options = generate_authentication_options(
            rp_id=rp_id, challenge=challenge,
            user_verification=(UserVerificationRequirement.REQUIRED if required
                               else UserVerificationRequirement.PREFERRED))
        return self._begin(purpose, challenge, options)

    def _verify(self, purpose: str, handle: str, credential: Any, *, rp_id: str,
                origin: str, owner_column: str, required: bool, where: Any = None) -> Any:
        """The passkey row that signed the challenge (its count brought up to date)."""
        data = _credential(credential)
        challenge = self._take(handle, purpose)
        try:
            raw_id = base64url_to_bytes(data["id"])
        except (ValueError, TypeError):
            raise PasskeyFailed("not a passkey answer") from None
        query = select(passkeys).where(passkeys.c.credential_hash == _hash(raw_id),
                                       passkeys.c.rp_id == rp_id,
                                       passkeys.c[owner_column].is_not(None))
        if where is not None:
            query = query.where(where)
        with self.db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise PasskeyFailed("this passkey is not registered here")
        try:
            verified = verify_authentication_response(
                credential=data, expected_challenge=challenge, expected_rp_id=rp_id,
                expected_origin=origin, credential_public_key=bytes(row.public_key),
                credential_current_sign_count=int(row.sign_count),
                require_user_verification=required)
        except Exception as exc:  # noqa: BLE001 - whatever the parser trips on: no passkey
            raise PasskeyFailed(f"the passkey could not be checked: {exc}"[:300]) from None
        used = datetime.now(UTC)
        for attempt in attempts("counting a passkey's use", idempotent=True):
            with attempt, self.db.write() as conn:
                # Never backwards: of two uses at once, the later count stays.
                new_count = int(verified.new_sign_count)
                conn.execute(update(passkeys).where(passkeys.c.id == row.id).values(
                    sign_count=case((passkeys.c.sign_count < new_count, new_count),
                                    else_=passkeys.c.sign_count),
                    last_used_at=used))
        return row

    # -- lists ------------------------------------------------------------------------

    def _list(self, column: str, owner_id: int) -> list[PasskeyInfo]:
        with self.db.read() as conn:
            rows = conn.execute(select(passkeys.c.id, passkeys.c.name, passkeys.c.created_at,
                                       passkeys.c.last_used_at)
                                .where(passkeys.c[column] == owner_id)
                                .order_by(passkeys.c.id)).all()
        return [PasskeyInfo(r.id, r.name, r.created_at, r.last_used_at) for r in rows]

    def _existing(self, column: str, owner_id: int) -> list[str]:
        with self.db.read() as conn:
            return list(conn.execute(select(passkeys.c.credential_id)
                                     .where(passkeys.c[column] == owner_id)).scalars())

    def _remove(self, column: str, owner_id: int, passkey_id: int,
                site_id: str | None = None, audited: Audited | None = None) -> None:
        for attempt in attempts("removing a passkey"):  # (not after a lost COMMIT: 404)
            with attempt, self.db.write() as conn:
                gone = conn.execute(delete(passkeys).where(
                    passkeys.c.id == passkey_id, passkeys.c[column] == owner_id)).rowcount
                if gone and site_id is not None:
                    changes.record(conn, Change(ChangeKind.SIGN_IN, site_id))
                if gone and audited is not None:
                    audited.record(conn, "passkey_removed", f"staff:{owner_id}",
                                   {"passkey": passkey_id}, None, site_id=None)
        if not gone:
            raise NotFound(f"no passkey {passkey_id} on this account", code="passkey_not_found")

    # -- readers ------------------------------------------------------------------------

    def _reader_origin(self, site_id: str, origin: str | None) -> tuple[str, str]:
        site = self.sites.get(site_id)
        if not origin or origin not in site.origins:
            raise Forbidden(f"origin {(origin or '')[:100]!r} is not one of site "
                            f"{site.id!r}'s", code="origin_not_allowed")
        if not self.sites.settings_of(site.id).sign_in.passkeys:
            raise Forbidden("this site does not offer passkeys", code="passkeys_off")
        return origin, host_of(origin)

    def reader_register_options(self, site_id: str, token: str | None,
                                origin: str | None) -> Ceremony:
        origin, rp_id = self._reader_origin(site_id, origin)
        _, reader = self.accounts.in_session(site_id, token)
        return self._registration(
            f"reader-register:{reader.id}:{rp_id}", rp_id=rp_id,
            rp_name=self.sites.get(site_id).name, owner="reader", owner_id=reader.id,
            user_name=reader.name, existing=self._existing("account_id", reader.id))

    def reader_register(self, site_id: str, token: str | None, origin: str | None,
                        handle: str, credential: Any, *, name: str | None = None,
                        device: str | None = None) -> PasskeyInfo:
        origin, rp_id = self._reader_origin(site_id, origin)
        _, reader = self.accounts.in_session(site_id, token)
        return self._register(f"reader-register:{reader.id}:{rp_id}", handle, credential,
                              rp_id=rp_id, origin=origin, owner={"account_id": reader.id},
                              name=name, device=device, site_id=site_id)

    def reader_sign_in_options(self, site_id: str, origin: str | None) -> Ceremony:
        _, rp_id = self._reader_origin(site_id, origin)
        return self._sign_in_options(f"reader-sign-in:{site_id}:{rp_id}", rp_id,
                                     required=False)

    def reader_sign_in(self, site_id: str, origin: str | None, handle: str, credential: Any,
                       *, device: str | None = None,
                       ip: str | None = None) -> tuple[str, SignedInReader]:
        """Sign in with a passkey alone; (session token, reader)."""
        origin, rp_id = self._reader_origin(site_id, origin)
        row = self._verify(
            f"reader-sign-in:{site_id}:{rp_id}", handle, credential, rp_id=rp_id,
            origin=origin, owner_column="account_id", required=False,
            where=passkeys.c.account_id.in_(select(reader_accounts.c.id)
                                            .where(reader_accounts.c.site_id == site_id)))
        reader = self.accounts.get(int(row.account_id))
        if reader is None:
            raise PasskeyFailed("the account is gone")
        token = self.accounts.session_for(site_id, reader, SignInMethod.PASSKEY,
                                          device=device, ip=ip)
        return token, reader

    def site_has_any(self, site_id: str) -> bool:
        """Whether any reader of the site has a passkey (else none could sign in with one)."""
        return self.cache.get(site_id)

    def _site_has_any(self, site_id: str) -> bool:
        with self.db.read() as conn:
            return conn.scalar(select(passkeys.c.id).join(
                reader_accounts, reader_accounts.c.id == passkeys.c.account_id)
                .where(reader_accounts.c.site_id == site_id).limit(1)) is not None

    def of_reader(self, account_id: int) -> list[PasskeyInfo]:
        return self._list("account_id", account_id)

    def remove_reader(self, site_id: str, token: str | None, passkey_id: int) -> None:
        _, reader = self.accounts.in_session(site_id, token)
        self._remove("account_id", reader.id, passkey_id, site_id)

    # -- staff --------------------------------------------------------------------------

    def staff_register_options(self, user_id: int, user_name: str, rp_id: str) -> Ceremony:
        return self._registration(
            f"staff-register:{user_id}", rp_id=rp_id, rp_name="Rostra", owner="staff",
            owner_id=user_id, user_name=user_name,
            existing=self._existing("staff_user_id", user_id))

    def staff_register(self, user_id: int, handle: str, credential: Any, *, rp_id: str,
                       origin: str, name: str | None = None, device: str | None = None,
                       audited: Audited | None = None) -> PasskeyInfo:
        return self._register(f"staff-register:{user_id}", handle, credential, rp_id=rp_id,
                              origin=origin, owner={"staff_user_id": user_id}, name=name,
                              device=device, audited=audited)

    def staff_sign_in_options(self, rp_id: str) -> Ceremony:
        return self._sign_in_options("staff-sign-in", rp_id, required=True)

    def staff_sign_in(self, handle: str, credential: Any, *, rp_id: str, origin: str) -> int:
        """The staff account whose passkey signed the challenge (user verification
        required: the passkey replaces both password and code)."""
        row = self._verify("staff-sign-in", handle, credential, rp_id=rp_id, origin=origin,
                           owner_column="staff_user_id", required=True)
        return int(row.staff_user_id)

    def of_staff(self, user_id: int) -> list[PasskeyInfo]:
        return self._list("staff_user_id", user_id)

    def remove_staff(self, user_id: int, passkey_id: int, *,
                     audited: Audited | None = None) -> None:
        self._remove("staff_user_id", user_id, passkey_id, audited=audited)

    def prune(self) -> int:
        """Forget challenges nobody answered in time."""
        with self.db.write() as conn:
            return int(conn.execute(delete(webauthn_challenges).where(
                webauthn_challenges.c.expires_at <= datetime.now(UTC))).rowcount)
