""""Notify of" subscriptions: subscribe, confirm (double opt-in), list and end them.

Each method is one transaction. A subscription of an unconfirmed address is stored at
once but matches nothing until the address is confirmed (see services/notify_hooks.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from rostra.core.errors import Forbidden, InvalidInput, NotFound, RostraError
from rostra.core.thread_keys import ThreadKeyError, thread_key
from rostra.notify import outbox
from rostra.notify.model import Channel, MessageKind, SubscriptionKind
from rostra.notify.templates import choose_language
from rostra.notify.tokens import AddressClaim
from rostra.services.sites import SiteService
from rostra.services.tokens import Tokens
from rostra.store import queries
from rostra.store.db import Database, attempts
from rostra.store.notify_tables import (
    notify_addresses,
    notify_subscription_comments,
    notify_subscriptions,
)
from rostra.store.tables import sites, threads

EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,252}\.[^@\s<>\"]{2,63}$")
# A reader who subscribes again before confirming gets a new confirmation email at most
# this often: the form must not become a way to flood someone's inbox.
CONFIRM_RESEND = timedelta(hours=1)


class EmailOff(RostraError):
    status = 503
    code = "notifications_off"
    title = "Email notifications are not available"


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    thread: str
    email: str
    kind: str = SubscriptionKind.THREAD.value
    site: str | None = None
    language: str | None = None
    comment_id: int | None = None


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    subscription_id: int
    address_id: int
    confirmation_sent: bool
    confirmed: bool


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """One line of the "your subscriptions" page."""

    id: int
    site_id: str
    site_name: str
    thread_key: str
    title: str
    url: str | None
    kind: SubscriptionKind


def normalise_email(value: str) -> str:
    value = value.strip()
    if not EMAIL.match(value) or len(value) > 320 or not value.isprintable():
        # isprintable: no control, format (U+202E), separator or unassigned character can
        # reach a mail header.
        raise InvalidInput("email: not an email address")
    return value.lower()


class SubscriptionService:
    """The door for readers' subscriptions."""

    def __init__(
        self, db: Database, sites: SiteService, tokens: Tokens, email_enabled: bool
    ) -> None:
        self.db = db
        self.sites = sites
        self.tokens = tokens  # proves authorship of a comment (its edit token)
        self.email_enabled = email_enabled

    # -- subscribing ---------------------------------------------------------

    def subscribe(
        self,
        request: SubscribeRequest,
        *,
        origin: str | None,
        edit_token: str | None = None,
        accept_language: str | None = None,
    ) -> SubscribeResult:
        """Store a subscription; the first one of an unconfirmed address queues a
        confirmation email. ``comment_id`` with its edit token makes a "replies"
        subscription follow that comment even if it was posted without this address."""
        if not self.email_enabled:
            raise EmailOff("this server does not send email (smtp_host is not set)")
        site = self.sites.resolve(request.site, origin)
        self.sites.check_origin(site, origin)
        try:
            kind = SubscriptionKind(request.kind)
        except ValueError:
            raise InvalidInput("kind: must be 'thread' or 'replies'") from None
        email = normalise_email(request.email)
        try:
            key = thread_key(request.thread)
        except ThreadKeyError as exc:
            raise InvalidInput(f"thread: {exc}") from None
        language = choose_language(request.language, accept_language)
        now = datetime.now(UTC)
        # Runs again after a deadlock or a lost connection, even one lost at COMMIT:
        # subscribing twice finds the address and the subscription the first try made,
        # and its confirmation email already queued.
        for attempt in attempts("a subscription", idempotent=True):
            with attempt, self.db.write() as conn:
                result = self._subscribe_once(conn, request, site.id, key, kind, email,
                                              language, edit_token, now)
        return result

    def _subscribe_once(self, conn: Connection, request: SubscribeRequest, site_id: str,
                        key: str, kind: SubscriptionKind, email: str, language: str,
                        edit_token: str | None, now: datetime) -> SubscribeResult:
        thread = queries.find_thread(conn, site_id, key)
        if thread is not None:
            key = thread.key  # the canonical key, as comment events carry it
        follow = self._followed_comment(conn, request.comment_id, edit_token, thread)
        address = self._address(conn, email, language, now)
        sub_id = self._subscription(conn, address.id, site_id, key, kind, language, now)
        if follow is not None:
            exists = conn.execute(
                select(notify_subscription_comments.c.comment_id).where(
                    notify_subscription_comments.c.subscription_id == sub_id,
                    notify_subscription_comments.c.comment_id == follow,
                )
            ).first()
            if exists is None:
                conn.execute(insert(notify_subscription_comments).values(
                    subscription_id=sub_id, comment_id=follow))
        sent = False
        # A bounced address (confirmed or not) gets a fresh confirmation: confirming it
        # ends the bounce. Once after each bounce even within the hour, as the last
        # confirmation may be what bounced; the hour still spaces the rest.
        bounced = address.bounced_at is not None
        if (address.confirmed_at is None or bounced) and (
            address.confirmation_sent_at is None
            or now - address.confirmation_sent_at > CONFIRM_RESEND
            or (bounced and address.confirmation_sent_at <= address.bounced_at)
        ):
            outbox.enqueue(
                conn, channel=Channel.EMAIL, kind=MessageKind.CONFIRM,
                batch_key=f"confirm:{address.id}", recipient=email,
                payload={"site_id": site_id}, now=now, due_at=now,
                address_id=address.id, site_id=site_id,
            )
            conn.execute(update(notify_addresses).where(notify_addresses.c.id == address.id)
                         .values(confirmation_sent_at=now))
            sent = True
        return SubscribeResult(sub_id, address.id, sent, address.confirmed_at is not None)

    def _followed_comment(
        self, conn: Connection, comment_id: int | None, edit_token: str | None,
        thread: Row[Any] | None,
    ) -> int | None:
        if comment_id is None:
            return None
        comment = queries.comment_row(conn, comment_id)
        if comment is None or thread is None or comment.thread_id != thread.id:
            raise NotFound("comment_id: no such comment in this thread")
        if not self.tokens.proves_author(edit_token, comment_id):
            raise Forbidden("comment_id: send the comment's edit token (X-Rostra-Edit-Token)",
                            code="unauthorized")
        return comment_id

    @staticmethod
    def _address(conn: Connection, email: str, language: str, now: datetime) -> Row[Any]:
        query = select(notify_addresses).where(notify_addresses.c.email == email)
        row = conn.execute(query).first()
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(notify_addresses).values(
                        email=email, language=language, created_at=now))
            except IntegrityError:
                pass  # a concurrent request created it (PostgreSQL); use theirs
            row = conn.execute(query).first()
        else:
            conn.execute(update(notify_addresses).where(notify_addresses.c.id == row.id)
                         .values(language=language))
        assert row is not None
        return row

    @staticmethod
    def _subscription(
        conn: Connection, address_id: int, site_id: str, key: str, kind: SubscriptionKind,
        language: str, now: datetime,
    ) -> int:
        query = select(notify_subscriptions.c.id).where(
            notify_subscriptions.c.address_id == address_id,
            notify_subscriptions.c.site_id == site_id,
            notify_subscriptions.c.thread_key == key,
            notify_subscriptions.c.kind == kind.value,
        )
        found = conn.execute(query).scalar()
        # base_url (where the reader reached us) is no longer kept: links in emails come
        # from public_url only.
        values = {"language": language, "base_url": None}
        if found is not None:
            conn.execute(update(notify_subscriptions)
                         .where(notify_subscriptions.c.id == found).values(**values))
            return int(found)
        try:
            with conn.begin_nested():
                conn.execute(insert(notify_subscriptions).values(
                    address_id=address_id, site_id=site_id, thread_key=key, kind=kind.value,
                    created_at=now, **values))
        except IntegrityError:
            pass  # the same subscription, made concurrently
        return int(conn.execute(query).scalar_one())

    # -- links from emails ---------------------------------------------------

    def address_of(self, claim: AddressClaim | None) -> Row[Any] | None:
        """The address a token speaks for, if it still exists under that email."""
        if claim is None:
            return None
        with self.db.read() as conn:
            row = conn.execute(
                select(notify_addresses).where(notify_addresses.c.id == claim.address_id)
            ).first()
        return row if row is not None and row.email == claim.email else None

    def confirm(self, claim: AddressClaim | None) -> Row[Any] | None:
        """Confirm the address and end its bounce, if any (once; later calls change
        nothing). None: no such address."""
        if self.address_of(claim) is None:
            return None
        assert claim is not None
        for attempt in attempts("confirming an address", idempotent=True):  # (once is once)
            with attempt, self.db.write() as conn:
                conn.execute(
                    update(notify_addresses)
                    .where(notify_addresses.c.id == claim.address_id,
                           or_(notify_addresses.c.confirmed_at.is_(None),
                               notify_addresses.c.bounced_at.is_not(None)))
                    .values(confirmed_at=func.coalesce(notify_addresses.c.confirmed_at,
                                                       datetime.now(UTC)),
                            bounced_at=None, bounce_reason=None)
                )
                row = conn.execute(
                    select(notify_addresses).where(notify_addresses.c.id == claim.address_id)
                ).first()
        return row

    def subscriptions_of(self, address_id: int) -> list[SubscriptionView]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(
                    notify_subscriptions.c.id, notify_subscriptions.c.site_id,
                    notify_subscriptions.c.thread_key, notify_subscriptions.c.kind,
                    sites.c.name.label("site_name"), threads.c.title, threads.c.url,
                )
                .join(sites, sites.c.id == notify_subscriptions.c.site_id)
                .outerjoin(threads, (threads.c.site_id == notify_subscriptions.c.site_id)
                           & (threads.c.key == notify_subscriptions.c.thread_key))
                .where(notify_subscriptions.c.address_id == address_id)
                .order_by(notify_subscriptions.c.id)
            ).all()
        return [
            SubscriptionView(r.id, r.site_id, r.site_name, r.thread_key,
                             r.title or r.url or r.thread_key, r.url, SubscriptionKind(r.kind))
            for r in rows
        ]

    def end(self, address_id: int, subscription_ids: list[int] | None) -> int:
        """End some (or, with None, all) of an address's subscriptions; pending emails
        about them go too. Returns how many ended."""
        condition = notify_subscriptions.c.address_id == address_id
        if subscription_ids is not None:
            condition = condition & notify_subscriptions.c.id.in_(subscription_ids)
        # Again even after a COMMIT lost its connection (ending twice ends once): a
        # reader's one-click unsubscribe must not fail for it. That second try counts
        # none ended, which no caller shows.
        for attempt in attempts("ending subscriptions", idempotent=True):
            with attempt, self.db.write() as conn:
                ended: int = conn.execute(delete(notify_subscriptions).where(condition)).rowcount
        return ended


def mark_bounced(conn: Connection, email: str, reason: str, now: datetime) -> None:
    """Inside a transaction: record that ``email`` bounced (creating its row if needed)."""
    found = conn.execute(
        select(notify_addresses.c.id).where(notify_addresses.c.email == email)
    ).scalar()
    if found is None:
        conn.execute(insert(notify_addresses).values(
            email=email, language="en", created_at=now, bounced_at=now,
            bounce_reason=reason[:500]))
    else:
        conn.execute(update(notify_addresses).where(notify_addresses.c.id == found)
                     .values(bounced_at=now, bounce_reason=reason[:500]))
