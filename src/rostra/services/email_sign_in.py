"""Readers signing in with an email link ("magic link").

1. The widget asks for a link (``request``): the answer is the same whether or not the
   address has an account, and requests are limited per address and per network
   address. The link's row and its email go into the outbox in one transaction.
2. The email's link opens a page on this server with a button (link scanners that
   fetch every URL in an email must not use it up); pressing it (``follow``) uses the
   link once, signs the address's account in (made on first use) and sends the
   browser back to the page the reader was on, with a one-time code in the fragment.
3. The widget trades the code for a session (``exchange``) and forgets the fragment.

Links are built from ``public_url`` only, as every email link is.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text, update

from rostra.core.errors import Forbidden, InvalidInput, RostraError, TooManyRequests
from rostra.core.thread_keys import ThreadKeyError, normalise_url, origin_of
from rostra.moderation.ip_hashing import IpHasher
from rostra.notify import outbox
from rostra.notify.model import Channel, MessageKind
from rostra.notify.templates import choose_language
from rostra.services.accounts import ReaderAccounts, SignedInReader
from rostra.services.sessions import SignInMethod, short_device
from rostra.services.sites import SiteService
from rostra.store.account_tables import reader_sign_in_links as links
from rostra.store.db import Database, attempts

LINK_TTL = timedelta(minutes=15)
CODE_TTL = timedelta(minutes=5)  # from following the link to the widget using the code
KEEP = timedelta(days=1)  # rows stay this long after expiry: they count for the limits
LIMIT_WINDOW = timedelta(hours=1)
LINKS_PER_ADDRESS = 5
LINKS_PER_IP = 20
EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,255}\.[^@\s<>\".]{2,63}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FRAGMENT = "rostra-sign-in"


class EmailSignInOff(RostraError):
    status = 409
    code = "email_sign_in_off"
    title = "Email sign-in is not available"


class LinkInvalid(RostraError):
    status = 400
    code = "sign_in_link_invalid"
    title = "This sign-in link cannot be used"


@dataclass(frozen=True, slots=True)
class LinkRequest:
    site: str
    email: str
    page: str  # the page the reader is on: where the link brings them back
    name: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A link that may still be used, as its page shows it."""

    site_id: str
    site_name: str
    language: str
    back_to: str  # the origin of the page the reader is sent back to


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _one_line(value: str | None, field: str, limit: int) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if CONTROL.search(value) or len(value) > limit:
        raise InvalidInput(f"{field}: one line of at most {limit} characters")
    return value


class EmailSignIn:
    """Sends, follows and trades in email sign-in links."""

    def __init__(self, db: Database, sites: SiteService, accounts: ReaderAccounts,
                 ips: IpHasher, *, enabled: bool, max_name: int = 80) -> None:
        self.db = db
        self.sites = sites
        self.accounts = accounts
        self.ips = ips
        self.enabled = enabled
        self.max_name = max_name

    def available(self, site_id: str) -> bool:
        """Whether readers of the site may sign in by email."""
        return self.enabled and self.sites.settings_of(site_id).sign_in.email

    # -- 1. asking for a link ----------------------------------------------------

    def request(self, new: LinkRequest, *, origin: str | None, ip: str | None,
                accept_language: str | None = None) -> None:
        """Queue a sign-in link for the address; refuses only what is wrong whoever
        the address belongs to (so the answer tells nothing about accounts)."""
        site = self.sites.get(new.site)
        if origin is None or origin not in site.origins:
            raise Forbidden(f"origin {(origin or '')[:100]!r} is not one of site "
                            f"{site.id!r}'s", code="origin_not_allowed")
        if not self.available(site.id):
            raise EmailSignInOff("this site does not offer signing in by email")
        address = (new.email or "").strip()
        if len(address) > 254 or not EMAIL.match(address):
            raise InvalidInput("email: not an email address")
        address = address.lower()
        name = _one_line(new.name, "name", self.max_name)
        # Kept as given (the reader goes back to exactly that page), checked as a URL.
        page = (new.page or "").split("#", 1)[0].strip()
        try:
            normalise_url(page)
        except ThreadKeyError:
            raise InvalidInput("page: must be an http or https address") from None
        if len(page) > 2000 or CONTROL.search(page) or origin_of(page) not in site.origins:
            raise InvalidInput("page: not a page on one of this site's origins")
        language = choose_language(new.language, accept_language)
        ip_hash = self.ips.hash(ip) if ip else None
        now = datetime.now(UTC)
        # Runs again after a deadlock or a connection lost before its COMMIT (not after
        # one lost at COMMIT: a second try would mail a second link).
        for attempt in attempts("asking for a sign-in link"):
            with attempt, self.db.write() as conn:
                if conn.dialect.name == "postgresql":
                    # Count and record as one step, so simultaneous requests cannot all
                    # pass a count taken before any of them was recorded.
                    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 21))"),
                                 {"k": "rostra-sign-in:" + address})
                since = now - LIMIT_WINDOW
                per_address = conn.scalar(select(func.count()).select_from(links).where(
                    links.c.email == address, links.c.created_at > since)) or 0
                per_ip = conn.scalar(select(func.count()).select_from(links).where(
                    links.c.ip_hash == ip_hash, links.c.created_at > since)) if ip_hash else 0
                if per_address >= LINKS_PER_ADDRESS or (per_ip or 0) >= LINKS_PER_IP:
                    wait = int(LIMIT_WINDOW.total_seconds())
                    raise TooManyRequests("too many sign-in links asked for; try again later",
                                          retry_after=wait)
                link_id = conn.execute(insert(links).values(
                    site_id=site.id, email=address, name=name, page_url=page, language=language,
                    ip_hash=ip_hash, created_at=now, expires_at=now + LINK_TTL,
                ).returning(links.c.id)).scalar_one()
                outbox.enqueue(
                    conn, channel=Channel.EMAIL, kind=MessageKind.SIGN_IN,
                    batch_key=f"sign-in:{link_id}", recipient=address,
                    payload={"link_id": link_id}, now=now, due_at=now, site_id=site.id,
                )

    # -- 2. following it ---------------------------------------------------------

    def pending(self, link_id: int | None) -> PendingLink | None:
        """The link, when it can still be used (for the page with the button)."""
        if link_id is None:
            return None
        with self.db.read() as conn:
            row = conn.execute(select(links.c.site_id, links.c.language, links.c.used_at,
                                      links.c.expires_at, links.c.page_url)
                               .where(links.c.id == link_id)).first()
        if row is None or row.used_at is not None or row.expires_at <= datetime.now(UTC):
            return None
        try:
            site = self.sites.get(row.site_id)
        except RostraError:
            return None
        return PendingLink(site.id, site.name, row.language or "en", origin_of(row.page_url))

    def follow(self, link_id: int | None) -> str:
        """Use the link (once): sign its address's account in and return where to send
        the browser, with a one-time code in the fragment."""
        now = datetime.now(UTC)
        # Runs again after a deadlock or a connection lost before its COMMIT (not after
        # one lost at COMMIT: a link or a code is used once).
        for attempt in attempts("following a sign-in link"):
            with attempt, self.db.write() as conn:
                used = conn.execute(
                    update(links).where(links.c.id == (link_id or 0), links.c.used_at.is_(None),
                                        links.c.expires_at > now)
                    .values(used_at=now)
                ).rowcount
                row = conn.execute(select(links).where(links.c.id == (link_id or 0))).first()
        if not used or row is None:
            raise LinkInvalid("this sign-in link was used already or has expired; "
                              "ask for a new one")
        reader = self._account(row.site_id, row.email, row.name)
        code = secrets.token_urlsafe(24)
        # Runs again after a deadlock or a lost connection, even one lost at COMMIT (the
        # same code set twice is set once): a used link without its code strands the
        # reader.
        for attempt in attempts("naming a sign-in code", idempotent=True):
            with attempt, self.db.write() as conn:
                conn.execute(update(links).where(links.c.id == row.id)
                             .values(account_id=reader.id, code_hash=_hash(code)))
        page = row.page_url.split("#", 1)[0]
        return f"{page}#{FRAGMENT}={code}"

    def _account(self, site_id: str, address: str, name: str | None) -> SignedInReader:
        subject = f"email:{address}"
        with self.db.read() as conn:
            from rostra.store.account_tables import reader_accounts

            known = conn.execute(select(reader_accounts.c.name, reader_accounts.c.website)
                                 .where(reader_accounts.c.site_id == site_id,
                                        reader_accounts.c.subject == subject)).first()
        chosen = name or (known.name if known is not None else None) or "Reader"
        return self.accounts.sign_in(site_id, subject, chosen, address,
                                     known.website if known is not None else None,
                                     email_verified=True)

    # -- 3. the widget's code ------------------------------------------------------

    def exchange(self, site_id: str, code: str, *, origin: str | None, ip: str | None,
                 device: str | None) -> tuple[str, SignedInReader]:
        """Trade a followed link's one-time code for a session on the site."""
        site = self.sites.get(site_id)
        if origin is None or origin not in site.origins:
            raise Forbidden(f"origin {(origin or '')[:100]!r} is not one of site "
                            f"{site.id!r}'s", code="origin_not_allowed")
        if not code or len(code) > 100:
            raise LinkInvalid("no sign-in code")
        now = datetime.now(UTC)
        # The session below hashes the address inside this write: hash it once before, so
        # that the hasher never writes the window's salt inside it (on SQLite that write
        # would wait for this one).
        if ip:
            self.ips.hash(ip)
        # Runs again after a deadlock or a connection lost before its COMMIT (not after
        # one lost at COMMIT: a link or a code is used once).
        for attempt in attempts("trading a sign-in code"):
            with attempt, self.db.write() as conn:
                row = conn.execute(select(links.c.id, links.c.account_id).where(
                    links.c.code_hash == _hash(code), links.c.site_id == site.id,
                    links.c.used_at > now - CODE_TTL)).first()
                taken = row is not None and conn.execute(
                    update(links).where(links.c.id == row.id, links.c.code_hash.is_not(None))
                    .values(code_hash=None)).rowcount
                if not taken or row is None or row.account_id is None:
                    raise LinkInvalid("this sign-in code was used already or has expired")
                account_id: int = row.account_id
                token = self.accounts.sessions.open(account_id, site.id, SignInMethod.EMAIL,
                                                    device=short_device(device), ip=ip, conn=conn)
        reader = self.accounts.get(account_id)
        if reader is None:
            raise LinkInvalid("the account is gone")
        return token, reader

    def prune(self) -> int:
        with self.db.write() as conn:
            return int(conn.execute(links.delete().where(
                links.c.expires_at <= datetime.now(UTC) - KEEP)).rowcount)
