"""The secrets the database keeps, sealed or opened in place (``rostra secrets``): a
site's sign-on secret, its own providers' client secrets, webhook secrets and staff
TOTP secrets, confirmed or waiting for a first code (core/sealing.py says how a value
is sealed).

``seal`` seals the plain values (left from before ``secret_key`` was configured) and
re-seals those sealed under a previous key; ``unseal`` writes them plain again (before
going back to a version that cannot read them, or to no ``secret_key``); ``status``
counts without changing anything. Each value is written only if it is still the one
read, so a secret changed meanwhile (a rotation, a new webhook) is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, and_, select, update

from rostra.core.sealing import Purpose, Sealer, Unsealable, is_sealed
from rostra.store import changes
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database
from rostra.store.notify_tables import notify_webhooks
from rostra.store.site_provider_tables import site_oidc_providers
from rostra.store.staff_tables import staff_users
from rostra.store.tables import meta

SSO_PREFIX = "sso_secret:"


class Outcome(StrEnum):
    SEALED = "sealed now"
    RESEALED = "re-sealed from the previous key"
    UNSEALED = "unsealed"
    ALREADY_SEALED = "sealed already"
    PREVIOUS_KEY = "sealed with the previous key"
    PLAIN = "plain"
    CHANGED = "changed meanwhile, left as it is"
    UNOPENABLE = "cannot be opened"


class Mode(StrEnum):
    SEAL = "seal"
    UNSEAL = "unseal"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class _Kind:
    label: str
    purpose: Purpose
    table: Table
    column: str
    keys: tuple[str, ...]
    where: Callable[[], ColumnElement[bool]]
    name: Callable[[Any], str]
    # The site whose readers' ways to sign in a rewritten value changes: every server
    # forgets what it remembers of them at once (SIGN_IN), a provider it kept as not
    # offered included. None: nothing remembered (single sign-on reads its secret again
    # before refusing a payload).
    sign_in_site: Callable[[Any], str] | None = None


KINDS = (
    _Kind("single sign-on secrets", Purpose.SSO, meta, "value", ("key",),
          lambda: meta.c.key.startswith(SSO_PREFIX),
          lambda r: f"site {r.key.removeprefix(SSO_PREFIX)!r}"),
    _Kind("site providers' client secrets", Purpose.SITE_PROVIDER, site_oidc_providers,
          "client_secret", ("site_id", "name"),
          lambda: site_oidc_providers.c.client_secret != "",
          lambda r: f"provider {r.site_id}.{r.name}", lambda r: str(r.site_id)),
    _Kind("webhook secrets", Purpose.WEBHOOK, notify_webhooks, "secret", ("id",),
          lambda: notify_webhooks.c.secret != "",
          lambda r: f"webhook {r.id} of site {r.site_id!r}"),
    _Kind("staff TOTP secrets", Purpose.TOTP, staff_users, "totp_secret", ("id",),
          lambda: staff_users.c.totp_secret.is_not(None),
          lambda r: f"staff account {r.name!r}"),
    # A new one set up on the account page, kept until a code from it confirms it (it
    # then becomes totp_secret as stored): sealed with the key that must open it then.
    _Kind("staff TOTP secrets waiting for a first code", Purpose.TOTP, staff_users,
          "totp_pending", ("id",), lambda: staff_users.c.totp_pending.is_not(None),
          lambda r: f"the new second factor of staff account {r.name!r}"),
)


@dataclass
class KindReport:
    """What one kind of secret holds, or what was done to it; never the secrets."""

    label: str
    counts: dict[Outcome, int] = field(default_factory=dict)
    unopenable: list[tuple[str, str]] = field(default_factory=list)  # (what, why)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def line(self) -> str:
        if not self.counts:
            return f"{self.label}: none stored"
        return f"{self.label}: " + ", ".join(
            f"{self.counts[o]} {o.value}" for o in Outcome if o in self.counts)


class StoredSecrets:
    """Seals, re-seals, unseals or counts the secrets stored in the database."""

    def __init__(self, db: Database, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer

    def run(self, mode: Mode, previous: Sealer | None = None) -> list[KindReport]:
        """One report per kind. ``previous``: the key values may also be sealed with
        (the ``secret_key`` before a change); ``seal`` needs a configured key."""
        if mode is Mode.SEAL and not self.sealer.active:
            raise ValueError("sealing needs a configured secret_key")
        return [self._kind(kind, mode, previous) for kind in KINDS]

    def _kind(self, kind: _Kind, mode: Mode, previous: Sealer | None) -> KindReport:
        report = KindReport(kind.label)
        column = kind.table.c[kind.column]
        with (self.db.read() if mode is Mode.STATUS else self.db.write()) as conn:
            rows = conn.execute(select(kind.table).where(kind.where())).all()
            for row in rows:
                stored = getattr(row, kind.column)
                outcome, new = self._one(kind, stored, mode, previous, report, row)
                if new is not None and new != stored:
                    if not self._swap(conn, kind, column, row, stored, new):
                        outcome = Outcome.CHANGED
                    elif kind.sign_in_site is not None:
                        changes.record(conn, Change(ChangeKind.SIGN_IN, kind.sign_in_site(row)))
                report.add(outcome)
        return report

    def _one(self, kind: _Kind, stored: str, mode: Mode, previous: Sealer | None,
             report: KindReport, row: Any) -> tuple[Outcome, str | None]:
        """The outcome for one stored value and what to write instead (None: nothing)."""
        if not is_sealed(stored):
            if mode is Mode.SEAL:
                return Outcome.SEALED, self.sealer.seal(stored, kind.purpose)
            return Outcome.PLAIN, None
        opener = self.sealer
        if previous is not None and not self.sealer.sealed_here(stored) and (
                previous.sealed_here(stored)):
            opener = previous
        try:
            plain = opener.open(stored, kind.purpose)
        except Unsealable as exc:
            report.unopenable.append((kind.name(row), exc.reason))
            return Outcome.UNOPENABLE, None
        if mode is Mode.UNSEAL:
            return Outcome.UNSEALED, plain
        if opener is self.sealer:
            return Outcome.ALREADY_SEALED, None
        if mode is Mode.SEAL:
            return Outcome.RESEALED, self.sealer.seal(plain, kind.purpose)
        return Outcome.PREVIOUS_KEY, None  # status

    @staticmethod
    def _swap(conn: Connection, kind: _Kind, column: Any, row: Any, old: str,
              new: str) -> bool:
        """Write ``new`` where the value is still ``old``; False when it changed."""
        match = and_(*(kind.table.c[k] == getattr(row, k) for k in kind.keys), column == old)
        done: int = conn.execute(update(kind.table).where(match)
                                 .values({kind.column: new})).rowcount
        return done == 1
