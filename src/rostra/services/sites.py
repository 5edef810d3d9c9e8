"""Sites: who may embed discussions, and with which settings."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from rostra.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from rostra.core.models import Site
from rostra.core.site_settings import SiteSettings, register_section
from rostra.core.thread_keys import ThreadKeyError, normalise_url, origin_of
from rostra.moderation.policy import validate_section as validate_moderation
from rostra.notify.site_settings import parse_notify_settings
from rostra.services.audit_log import Audited
from rostra.store import changes
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database, attempts
from rostra.store.tables import sites

register_section("moderation", validate_moderation)
register_section("notifications", parse_notify_settings)

SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def normalise_origin(origin: str) -> str:
    """scheme://host[:port] with case and default ports normalised; raises InvalidInput,
    for a path, query or fragment too: a browser's Origin never has one, and an operator
    who gives https://news.example/blog would expect only /blog to be allowed."""
    try:
        normal = origin_of(normalise_url(origin.strip().rstrip("/") + "/"))
        parts = urlsplit(origin.strip())
    except (ThreadKeyError, ValueError):
        raise InvalidInput(f"not an origin (scheme://host[:port]): {origin[:100]!r}") from None
    if parts.path.strip("/") or parts.query or parts.fragment or "?" in origin or "#" in origin:
        raise InvalidInput(f"an origin has no path: {origin.strip()[:100]!r} (the origin "
                           f"{normal} allows every page of that host)")
    return normal


def lock_origins(conn: Connection) -> None:
    """On PostgreSQL, lock the sites table against other writers until the transaction
    ends (``claim_origins``). A transaction that will claim origins takes it before any
    site's row: holding a row while waiting for the table, it would wait in a circle
    with a claim holding the table and waiting for that row."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE sites IN SHARE ROW EXCLUSIVE MODE")


def claim_origins(conn: Connection, origins: Sequence[str], site_ids: Sequence[str]) -> None:
    """Refuse, inside the caller's write transaction, origins that a site other than
    ``site_ids`` allows: a browser's Origin must name one site. On PostgreSQL the sites
    table is locked against other writers until the transaction ends, so two changes
    cannot claim one origin at the same time (SQLite's writer lock does that already)."""
    if not origins:
        return
    lock_origins(conn)
    wanted = set(origins)
    rows = conn.execute(select(sites.c.id, sites.c.origins).order_by(sites.c.id)).all()
    for row in rows:
        if row.id in site_ids:
            continue
        taken = sorted(wanted & set(row.origins or ()))
        if taken:
            raise Conflict(
                f"origin {taken[0]} is already allowed by site {row.id!r}; an origin can "
                f"belong to one site only (remove it there first: rostra site origin remove "
                f"{row.id} {taken[0]})",
                code="origin_taken",
            )


def _site(row: Any) -> Site:
    return Site(id=row.id, name=row.name, origins=tuple(row.origins or ()), settings=row.settings)


class SiteService:
    """Creates and reads sites; keeps an in-memory view for the per-request origin checks."""

    REFRESH_SECONDS = 5.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._by_id: dict[str, Site] = {}
        self._settings: dict[str, SiteSettings] = {}
        self._by_origin: dict[str, str] = {}
        self._loaded_at = 0.0
        self._tickets = 0
        self._applied_ticket = 0

    # -- cached view ---------------------------------------------------------

    def _ensure_fresh(self) -> None:
        if time.monotonic() - self._loaded_at > self.REFRESH_SECONDS:
            self.reload()

    def reload(self) -> None:
        with self._lock:
            self._tickets += 1
            ticket = self._tickets
        with self.db.read() as conn:
            rows = conn.execute(select(sites)).all()
        by_id = {row.id: _site(row) for row in rows}
        by_origin: dict[str, str] = {}
        for site in sorted(by_id.values(), key=lambda s: s.id):
            for origin in site.origins:
                by_origin.setdefault(origin, site.id)
        settings = {}
        for site in by_id.values():
            try:
                settings[site.id] = SiteSettings.parse(site.settings)
            except InvalidInput:
                settings[site.id] = SiteSettings()
        with self._lock:
            # A reload that started earlier must not overwrite a later one's fresher view.
            if ticket < self._applied_ticket:
                return
            self._applied_ticket = ticket
            self._by_id, self._by_origin, self._settings = by_id, by_origin, settings
            self._loaded_at = time.monotonic()

    def generation(self) -> int:
        """How many reloads have begun, once the sites are fresh (they reload on a SITES
        change and every REFRESH_SECONDS): what is kept beside them, such as which sites
        have no webhook, is good while this number stays the same."""
        self._ensure_fresh()
        return self._tickets

    def get(self, site_id: str) -> Site:
        self._ensure_fresh()
        site = self._by_id.get(site_id)
        if site is None:
            self.reload()
            site = self._by_id.get(site_id)
        if site is None:
            raise NotFound(f"no site with id {site_id[:64]!r}", code="site_not_found")
        return site

    def settings_of(self, site_id: str) -> SiteSettings:
        self.get(site_id)
        found = self._settings.get(site_id)
        # Not dict.get's default: it would build a SiteSettings on every call (every post).
        return found if found is not None else SiteSettings()

    def resolve(self, site_id: str | None, origin: str | None) -> Site:
        """The site named by the request, or else the one serving the request's Origin."""
        if site_id:
            return self.get(site_id)
        if origin:
            self._ensure_fresh()
            found = self._by_origin.get(origin)
            if found:
                return self.get(found)
        raise InvalidInput("site: required (no site allows this request's origin)")

    def is_known_origin(self, origin: str) -> bool:
        self._ensure_fresh()
        return origin in self._by_origin

    def origin_allowed(self, site: Site, origin: str | None) -> bool:
        return origin is None or origin in site.origins

    def check_origin(self, site: Site, origin: str | None) -> None:
        """Refuse a browser request from a page the site does not list."""
        if not self.origin_allowed(site, origin):
            raise Forbidden(
                f"origin {origin[:100]!r} may not post to site {site.id!r}",  # type: ignore[index]
                code="origin_not_allowed",
            )

    # -- changes -------------------------------------------------------------

    def create(
        self,
        site_id: str,
        name: str,
        origins: Sequence[str] = (),
        settings: dict[str, Any] | None = None,
        *,
        audited: Audited | None = None,
    ) -> Site:
        if not SITE_ID.match(site_id):
            raise InvalidInput(
                "site id: 1-64 lower-case letters, digits, '-' or '_', starting with a letter "
                "or digit"
            )
        if not name.strip():
            raise InvalidInput("name: must not be empty")
        parsed = SiteSettings.parse(settings)
        normal = sorted({normalise_origin(o) for o in origins})
        try:
            # Runs again after a deadlock or a connection lost before its COMMIT (not
            # after one lost at COMMIT: the second try would find the site, made by the
            # first, and answer that it exists already).
            for attempt in attempts("making a site"):
                with attempt, self.db.write() as conn:
                    claim_origins(conn, normal, [site_id])
                    changes.record(conn, Change(ChangeKind.SITES, site_id))
                    conn.execute(
                        insert(sites).values(
                            id=site_id,
                            name=name.strip()[:200],
                            origins=normal,
                            settings=parsed.to_json(),
                            created_at=datetime.now(UTC),
                        )
                    )
                    if audited is not None:
                        audited.record(conn, "site_create", f"site:{site_id}", None,
                                       {"name": name.strip()[:200], "origins": normal},
                                       site_id=site_id)
        except IntegrityError:
            raise Conflict(f"a site with id {site_id!r} exists already") from None
        self.reload()
        return self.get(site_id)

    def update(
        self,
        site_id: str,
        *,
        name: str | None = None,
        origins: Sequence[str] | None = None,
        settings: dict[str, Any] | None = None,
        settings_from: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        audited: Audited | None = None,
    ) -> Site:
        """Change what is given: ``settings``, the keys given (the others kept), or
        ``settings_from``, the settings made from those stored (a form's changes applied
        to them); ``audited``: recorded in the audit log as it commits."""
        if name is not None and not name.strip():
            raise InvalidInput("name: must not be empty")

        def change(site: Site) -> dict[str, Any]:
            values: dict[str, Any] = {}
            if name is not None:
                values["name"] = name.strip()[:200]
            if origins is not None:
                values["origins"] = sorted({normalise_origin(o) for o in origins})
            new = dict(site.settings)
            if settings_from is not None:
                new = settings_from(new)
            if settings is not None:
                new = {**new, **settings}
            if settings is not None or settings_from is not None:
                values["settings"] = SiteSettings.parse(new).to_json()
            return values

        return self._change(site_id, change, audited, claims=origins is not None)

    def add_origin(self, site_id: str, origin: str, *, audited: Audited | None = None) -> Site:
        """Allow one more origin (refused when another site allows it)."""
        normal = normalise_origin(origin)
        return self._change(site_id, lambda site: {"origins": sorted({*site.origins, normal})},
                            audited, claims=True)

    def remove_origin(self, site_id: str, origin: str, *,
                      audited: Audited | None = None) -> Site:
        """Stop allowing an origin; NotFound when the site does not allow it."""
        normal = normalise_origin(origin)

        def change(site: Site) -> dict[str, Any]:
            if normal not in site.origins:
                raise NotFound(f"site {site_id!r} does not allow the origin {normal}",
                               code="origin_not_found")
            return {"origins": [o for o in site.origins if o != normal]}

        return self._change(site_id, change, audited)

    def _change(self, site_id: str, change: Callable[[Site], dict[str, Any]],
                audited: Audited | None, *, claims: bool = False) -> Site:
        """Apply ``change`` (the site as stored -> the values to set) to the site's row,
        read and written in one transaction with the row locked: a change is made to
        the site as it is, not as this process last saw it (another worker or server
        may have changed a setting a moment ago; two origins added at once are both
        kept)."""
        self.get(site_id)  # NotFound before any write
        # Setting values twice sets them once: it runs again even after a COMMIT lost
        # with its connection (unless audited: the entry would be made twice).
        for attempt in attempts("changing a site", idempotent=audited is None):
            with attempt, self.db.write() as conn:
                if claims:  # ``claims``: the change may claim origins; the table first
                    lock_origins(conn)
                row = conn.execute(select(sites).where(sites.c.id == site_id)
                                   .with_for_update()).first()
                if row is None:
                    raise NotFound(f"no site with id {site_id[:64]!r}", code="site_not_found")
                site = _site(row)
                values = change(site)
                if not values:
                    break
                if "origins" in values:
                    # Only origins the site gains are checked: a shared origin from
                    # before the rule does not block other changes (`rostra doctor`
                    # points it out).
                    gained = [o for o in values["origins"] if o not in site.origins]
                    claim_origins(conn, gained, [site_id])
                conn.execute(update(sites).where(sites.c.id == site_id).values(**values))
                changes.record(conn, Change(ChangeKind.SITES, site_id))
                if audited is not None:
                    before = {"name": site.name, "origins": list(site.origins),
                              "settings": site.settings}
                    audited.record(conn, "site_settings", f"site:{site_id}", before,
                                   {**before, **values}, site_id=site_id)
        self.reload()
        return self.get(site_id)

    def list(self) -> list[Site]:
        self.reload()
        return sorted(self._by_id.values(), key=lambda s: s.id)
