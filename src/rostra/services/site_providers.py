"""OpenID Connect providers of one site: a site may offer providers of its own (its
newsroom's Keycloak, say) beside the server's, which it may also narrow down (site
setting ``sign_in.providers``). A site's provider is named ``<site>.<name>`` in URLs,
so its redirect URI is ``<public_url>/auth/<site>.<name>/callback``."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from rostra.config import OidcProvider
from rostra.core.errors import Conflict, InvalidInput, NotFound
from rostra.core.sealing import Purpose, Sealer, Unsealable
from rostra.services.audit_log import Audited
from rostra.services.site_cache import PerSite
from rostra.services.sites import SiteService
from rostra.store import changes
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database, attempts
from rostra.store.site_provider_tables import site_oidc_providers as table

MAX_PER_SITE = 20

log = logging.getLogger("rostra.sign_in")


def full_name(site_id: str, name: str) -> str:
    return f"{site_id}.{name}"


@dataclass(frozen=True, slots=True)
class SiteProviderList:
    """A site's own providers as read: those readers may use, and those whose client
    secret this server cannot open (each with the reason, secret left out)."""

    usable: tuple[OidcProvider, ...]
    unusable: tuple[tuple[OidcProvider, str], ...] = ()


def unsealable_provider(site_id: str, name: str, exc: Unsealable) -> str:
    """What an operator reads when a site provider's client secret cannot be opened."""
    return (f"sign-in provider {full_name(site_id, name)!r} is not offered: its client "
            f"secret is {exc.reason}. Set secret_key back to the key it was sealed with, "
            "or re-seal it with `rostra secrets seal --previous-key-file OLD_KEY_FILE`, or "
            "remove the provider and add it again with its client secret")


class SiteProviders:
    """Adds, lists and removes a site's own providers."""

    def __init__(self, db: Database, sites: SiteService, sealer: Sealer) -> None:
        self.db = db
        self.sites = sites
        self.sealer = sealer
        # Read on every widget load (GET /auth/providers); forgotten on SIGN_IN changes.
        self.cache: PerSite[SiteProviderList] = PerSite(self._read)
        self._told: set[tuple[str, str, str]] = set()  # logged already, once per process
        self._lock = threading.Lock()

    def add(self, site_id: str, name: str, label: str, issuer: str, client_id: str,
            client_secret: str = "", scopes: str = "openid profile email", *,
            audited: Audited | None = None) -> OidcProvider:
        self.sites.get(site_id)
        try:
            provider = OidcProvider(name=name, label=label, issuer=issuer, client_id=client_id,
                                    client_secret=client_secret, scopes=scopes)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise InvalidInput(f"{field}: {first['msg']}") from None
        parts = urlsplit(issuer)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise InvalidInput("issuer: an https address")
        if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            raise InvalidInput("issuer: an https address (http only for a provider on "
                               "this machine)")
        if len(issuer) > 500 or len(client_id) > 300 or len(scopes) > 200:
            raise InvalidInput("issuer, client_id or scopes: too long")
        try:
            # Runs again after a deadlock or a connection lost before its COMMIT (not
            # after one lost at COMMIT: it would find the provider and answer 409).
            for attempt in attempts("adding a sign-in provider"):
                with attempt, self.db.write() as conn:
                    count = len(conn.execute(select(table.c.name)
                                             .where(table.c.site_id == site_id)).all())
                    if count >= MAX_PER_SITE:
                        raise InvalidInput(f"at most {MAX_PER_SITE} providers per site")
                    conn.execute(insert(table).values(
                        site_id=site_id, name=name, label=label, issuer=issuer,
                        client_id=client_id, scopes=scopes,
                        client_secret=self.sealer.seal(client_secret, Purpose.SITE_PROVIDER),
                        created_at=datetime.now(UTC)))
                    changes.record(conn, Change(ChangeKind.SIGN_IN, site_id))
                    if audited is not None:
                        audited.record(conn, "site_provider_added", f"site:{site_id}", None,
                                       {"name": name, "label": label, "issuer": issuer,
                                        "client_id": client_id}, site_id=site_id)
        except IntegrityError:
            raise Conflict(f"site {site_id!r} has a provider {name!r} already",
                           code="provider_exists") from None
        return provider

    def of_site(self, site_id: str) -> list[OidcProvider]:
        """The site's own providers readers may use, secrets included (for signing in,
        never for show). One whose secret cannot be opened is left out (``unusable``)."""
        return list(self.cache.get(site_id).usable)

    def unusable(self, site_id: str) -> list[tuple[OidcProvider, str]]:
        """The site's own providers that are not offered because their client secret
        cannot be opened, each with what the operator should do (secrets left out)."""
        return list(self.cache.get(site_id).unusable)

    def _read(self, site_id: str) -> SiteProviderList:
        with self.db.read() as conn:
            rows = conn.execute(select(table).where(table.c.site_id == site_id)
                                .order_by(table.c.name)).all()
        usable, unusable = [], []
        for r in rows:
            provider = OidcProvider(name=r.name, label=r.label, issuer=r.issuer,
                                    client_id=r.client_id, client_secret="", scopes=r.scopes)
            try:
                secret = self.sealer.open(r.client_secret, Purpose.SITE_PROVIDER)
            except Unsealable as exc:
                problem = unsealable_provider(site_id, r.name, exc)
                unusable.append((provider, problem))
                self._tell((site_id, r.name, r.client_secret), problem)
                continue
            usable.append(provider.model_copy(update={"client_secret": secret}))
        return SiteProviderList(tuple(usable), tuple(unusable))

    def _tell(self, key: tuple[str, str, str], problem: str) -> None:
        with self._lock:
            if key in self._told:
                return
            self._told.add(key)
        log.error("%s", problem)

    def get(self, site_id: str, name: str) -> OidcProvider | None:
        return next((p for p in self.of_site(site_id) if p.name == name), None)

    def remove(self, site_id: str, name: str, *, audited: Audited | None = None) -> None:
        for attempt in attempts("removing a sign-in provider"):  # (not after a lost COMMIT)
            with attempt, self.db.write() as conn:
                gone = conn.execute(delete(table).where(table.c.site_id == site_id,
                                                        table.c.name == name)).rowcount
                changes.record(conn, Change(ChangeKind.SIGN_IN, site_id))
                if gone and audited is not None:
                    audited.record(conn, "site_provider_removed", f"site:{site_id}",
                                   {"name": name}, None, site_id=site_id)
        if not gone:
            raise NotFound(f"site {site_id!r} has no provider {name[:40]!r}",
                           code="provider_not_found")
