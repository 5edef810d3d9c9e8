""""Notify of" subscriptions: subscribe, confirm (double opt-in), list and end them.

Each method is one transaction. A subscription is stored at once but matches nothing
until it is confirmed (see services/notify_hooks.py): by the link in an email about it,
or at once when a signed-in reader subscribes the address their account verified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from rostra.core.errors import Forbidden, InvalidInput, NotFound, RostraError
from rostra.core.thread_keys import ThreadKeyError, thread_key
from rostra.notify import outbox
from rostra.notify.model import Channel, MessageKind, SubscriptionKind
from rostra.notify.templates import choose_language
from rostra.notify.tokens import AddressClaim
from rostra.services.accounts import ReaderAccounts
from rostra.services.sites import SiteService
from rostra.services.tokens import Tokens
from rostra.store import queries
from rostra.store.account_tables import reader_accounts
from rostra.store.db import Database, attempts
from rostra.store.notify_tables import (
    notify_addresses,
    notify_outbox,
    notify_refusals,
    notify_subscription_comments,
    notify_subscriptions,
)
from rostra.store.tables import sites, threads

EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,252}\.[^@\s<>\"]{2,63}$")
# An address gets at most one unanswered confirmation email this often, whoever asks and
# for whatever subscription: the form must not become a way to flood someone's inbox.
# Confirming lifts the cap (see SubscriptionService.confirm): each further email then
# needs a click from the inbox it goes to, which a stranger cannot give.
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
class Requester:
    """Who sends a subscription request, as its headers say: the browser's signed voter
    token, and a signed-in reader's session token or single sign-on payload."""

    voter_token: str | None = None
    session: str | None = None
    sso: str | None = None


@dataclass(frozen=True, slots=True)
class _Maker:
    proven: bool  # the request comes from an account that verified the address
    voter_id: str | None
    account_id: int | None


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    subscription_id: int
    address_id: int
    confirmation_sent: bool  # queued now, or joined one waiting for the hourly cap
    confirmed: bool
    # Asked by the address's proven owner (a signed-in reader's verified address): only
    # then may the answer tell that the subscription is active.
    by_owner: bool = False
    # A voter id given with the answer, to a browser that had none: the comments it
    # posts next carry it, and a "replies" subscription finds them by it.
    voter_token: str | None = None


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
        self, db: Database, sites: SiteService, tokens: Tokens, email_enabled: bool,
        accounts: ReaderAccounts | None = None,
    ) -> None:
        self.db = db
        self.sites = sites
        self.tokens = tokens  # proves authorship of a comment (its edit token), voter ids
        self.email_enabled = email_enabled
        self.accounts = accounts  # signed-in readers, who may own the address

    # -- subscribing ---------------------------------------------------------

    def subscribe(
        self,
        request: SubscribeRequest,
        *,
        origin: str | None,
        edit_token: str | None = None,
        accept_language: str | None = None,
        requester: Requester | None = None,
    ) -> SubscribeResult:
        """Store a subscription. It is active at once only when the request comes from
        a signed-in reader whose account has this address verified; otherwise it waits
        for its own confirmation, asked by email (at most one email an hour to an
        address). ``comment_id`` with its edit token makes a "replies" subscription
        follow that comment even if it was posted without this address."""
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
        who = requester or Requester()
        voter_id = self.tokens.voter_id(who.voter_token) if who.voter_token else None
        account = self._account(site.id, who)
        new_voter = None
        if voter_id is None and account is None:
            # A browser that never posted nor voted: without an id, the comments it
            # posts after subscribing (without an email) could not be told its own.
            voter_id, new_voter = self.tokens.new_voter()
        now = datetime.now(UTC)
        # Runs again after a deadlock or a lost connection, even one lost at COMMIT:
        # subscribing twice finds the address and the subscription the first try made,
        # and its confirmation email already queued.
        for attempt in attempts("a subscription", idempotent=True):
            with attempt, self.db.write() as conn:
                proven = account is not None and self._owns(conn, account, email)
                result = self._subscribe_once(
                    conn, request, site.id, key, kind, email, language, edit_token, now,
                    _Maker(proven, voter_id, account))
        return replace(result, voter_token=new_voter) if new_voter else result

    def _account(self, site_id: str, who: Requester) -> int | None:
        """The signed-in reader's account id; None for anyone else (an expired session
        or a refused payload subscribes as an anonymous reader would: by email)."""
        if self.accounts is None or not (who.sso or who.session):
            return None
        try:
            reader = self.accounts.reader(site_id, who.sso, who.session)
        except RostraError:
            return None
        return reader.id if reader is not None else None

    @staticmethod
    def _owns(conn: Connection, account_id: int, email: str) -> bool:
        """Whether the account proved ``email`` its own (an email sign-in link it
        followed, or a provider that vouched for it)."""
        row = conn.execute(
            select(reader_accounts.c.email, reader_accounts.c.email_verified)
            .where(reader_accounts.c.id == account_id)
        ).first()
        return bool(row is not None and row.email_verified and row.email
                    and str(row.email).lower() == email)

    def _subscribe_once(self, conn: Connection, request: SubscribeRequest, site_id: str,
                        key: str, kind: SubscriptionKind, email: str, language: str,
                        edit_token: str | None, now: datetime, maker: _Maker
                        ) -> SubscribeResult:
        thread = queries.find_thread(conn, site_id, key)
        if thread is not None:
            key = thread.key  # the canonical key, as comment events carry it
        follow = self._followed_comment(conn, request.comment_id, edit_token, thread)
        address = self._address(conn, email, language, now, maker.proven)
        refused = notify_refusals.c.address_id == address.id
        refused &= notify_refusals.c.site_id == site_id
        if maker.proven:
            conn.execute(delete(notify_refusals).where(refused))  # its owner asks
        elif conn.execute(select(notify_refusals.c.site_id).where(refused)).first():
            # Its reader said "not me" to this site's confirmation email: nothing is
            # stored or sent on anyone else's word, and the answer tells nobody so.
            return SubscribeResult(0, address.id, False, False)
        if address.confirmed_at is not None and not maker.proven:
            # Whoever asks cannot choose the language of a known reader's emails.
            language = address.language
        sub_id, sub_confirmed = self._subscription(
            conn, address.id, site_id, key, kind, language, now, maker)
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
        if maker.proven:
            conn.execute(update(notify_subscriptions).where(
                notify_subscriptions.c.id == sub_id,
                notify_subscriptions.c.confirmed_at.is_(None)).values(confirmed_at=now))
            conn.execute(update(notify_addresses).where(
                notify_addresses.c.id == address.id,
                notify_addresses.c.confirmed_at.is_(None)).values(confirmed_at=now))
            # Active at once, but a bounced address gets nothing until a confirmation
            # gets through: its owner is asked too.
            sent = address.bounced_at is not None and self._ask_confirmation(
                conn, address, sub_id, site_id, now)
            return SubscribeResult(sub_id, address.id, sent, True, by_owner=True)
        sent = False
        # A bounced address (confirmed or not, its subscription too) is asked to confirm
        # again: confirming is how its reader ends the bounce.
        if not sub_confirmed or address.bounced_at is not None:
            sent = self._ask_confirmation(conn, address, sub_id, site_id, now)
        return SubscribeResult(sub_id, address.id, sent, sub_confirmed)

    @staticmethod
    def _ask_confirmation(conn: Connection, address: Row[Any], sub_id: int, site_id: str,
                          now: datetime) -> bool:
        """Queue the confirmation of one subscription; False when one about it is on its
        way or went out within the hour. An address gets at most one confirmation email
        an hour, whoever asks: one asked for meanwhile joins the next, which lists each
        subscription it confirms. After a bounce, the first one leaves at once even within
        the hour, as the last confirmation may be what bounced."""
        bounced_at = address.bounced_at
        last = address.confirmation_sent_at
        again = bounced_at is not None and (last is None or last <= bounced_at)
        mine = notify_outbox.c.subscription_id == sub_id
        confirm = notify_outbox.c.kind == MessageKind.CONFIRM.value
        unsent = and_(notify_outbox.c.sent_at.is_(None), notify_outbox.c.failed_at.is_(None))
        if again:
            # One already waiting for the hourly cap leaves now.
            conn.execute(update(notify_outbox).where(
                confirm, notify_outbox.c.address_id == address.id, unsent,
                notify_outbox.c.claimed_at.is_(None), notify_outbox.c.due_at > now,
            ).values(due_at=now))
            conn.execute(update(notify_addresses).where(notify_addresses.c.id == address.id)
                         .values(confirmation_sent_at=now))
        recent = notify_outbox.c.sent_at > now - CONFIRM_RESEND
        if bounced_at is not None:
            recent = recent & (notify_outbox.c.sent_at > bounced_at)  # not what bounced
        if conn.execute(select(notify_outbox.c.id).where(
            confirm, mine, notify_outbox.c.failed_at.is_(None),
            or_(notify_outbox.c.sent_at.is_(None), recent),
        ).limit(1)).first() is not None:
            return False
        waiting = conn.execute(select(func.min(notify_outbox.c.due_at)).where(
            confirm, notify_outbox.c.address_id == address.id, unsent,
            notify_outbox.c.claimed_at.is_(None),
        )).scalar()
        if waiting is not None:
            due = waiting
        else:
            due = (now if again or last is None or now - last >= CONFIRM_RESEND
                   else last + CONFIRM_RESEND)
            conn.execute(update(notify_addresses).where(notify_addresses.c.id == address.id)
                         .values(confirmation_sent_at=due))
        outbox.enqueue(
            conn, channel=Channel.EMAIL, kind=MessageKind.CONFIRM,
            batch_key=f"confirm:{address.id}", recipient=address.email,
            payload={"site_id": site_id}, now=now, due_at=due,
            address_id=address.id, subscription_id=sub_id, site_id=site_id,
        )
        return True

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
    def _address(conn: Connection, email: str, language: str, now: datetime,
                 proven: bool) -> Row[Any]:
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
        elif row.language != language and (proven or row.confirmed_at is None):
            # Only its owner, or anyone while nobody has confirmed it, sets its language.
            conn.execute(update(notify_addresses).where(notify_addresses.c.id == row.id)
                         .values(language=language))
            row = conn.execute(query).first()
        assert row is not None
        return row

    @staticmethod
    def _subscription(
        conn: Connection, address_id: int, site_id: str, key: str, kind: SubscriptionKind,
        language: str, now: datetime, maker: _Maker,
    ) -> tuple[int, bool]:
        """The subscription's id and whether it is confirmed, made if need be. A
        confirmed one changes only at its owner's request."""
        query = select(notify_subscriptions.c.id, notify_subscriptions.c.confirmed_at).where(
            notify_subscriptions.c.address_id == address_id,
            notify_subscriptions.c.site_id == site_id,
            notify_subscriptions.c.thread_key == key,
            notify_subscriptions.c.kind == kind.value,
        )
        found = conn.execute(query).first()
        # base_url (where the reader reached us) is no longer kept: links in emails come
        # from public_url only.
        values: dict[str, Any] = {"language": language, "base_url": None}
        if found is not None:
            if found.confirmed_at is None or maker.proven:
                # Who made it is kept: a later request names another browser only where
                # none was named.
                for column, value in (("voter_id", maker.voter_id),
                                      ("account_id", maker.account_id)):
                    if value is not None:
                        values[column] = func.coalesce(notify_subscriptions.c[column], value)
                conn.execute(update(notify_subscriptions)
                             .where(notify_subscriptions.c.id == found.id).values(**values))
            return int(found.id), found.confirmed_at is not None
        try:
            with conn.begin_nested():
                conn.execute(insert(notify_subscriptions).values(
                    address_id=address_id, site_id=site_id, thread_key=key, kind=kind.value,
                    created_at=now, voter_id=maker.voter_id, account_id=maker.account_id,
                    **values))
        except IntegrityError:
            pass  # the same subscription, made concurrently
        made = conn.execute(query).one()
        return int(made.id), made.confirmed_at is not None

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
        """Confirm the subscriptions the link names (once; later calls change nothing),
        and the address as its reader's, ending its bounce if any. None: no such
        address."""
        if self.address_of(claim) is None:
            return None
        assert claim is not None
        now = datetime.now(UTC)
        for attempt in attempts("confirming an address", idempotent=True):  # (once is once)
            with attempt, self.db.write() as conn:
                proven = conn.execute(
                    update(notify_addresses)
                    .where(notify_addresses.c.id == claim.address_id,
                           or_(notify_addresses.c.confirmed_at.is_(None),
                               notify_addresses.c.bounced_at.is_not(None)))
                    .values(confirmed_at=func.coalesce(notify_addresses.c.confirmed_at, now),
                            bounced_at=None, bounce_reason=None)
                )
                answered = conn.execute(update(notify_subscriptions).where(
                    _named_by(claim), notify_subscriptions.c.confirmed_at.is_(None),
                ).values(confirmed_at=now)).rowcount
                # Its reader subscribes themselves: a "not me" to these sites is taken back.
                conn.execute(delete(notify_refusals).where(
                    notify_refusals.c.address_id == claim.address_id,
                    notify_refusals.c.site_id.in_(
                        select(notify_subscriptions.c.site_id).where(_named_by(claim)))))
                if answered or proven.rowcount:  # (a bounce ended is an answer too)
                    _lift_cap(conn, claim.address_id, now)
                row = conn.execute(
                    select(notify_addresses).where(notify_addresses.c.id == claim.address_id)
                ).first()
        return row

    def to_confirm(self, claim: AddressClaim) -> tuple[list[SubscriptionView], bool]:
        """The subscriptions a confirmation link names, and whether all are confirmed."""
        views = self.subscriptions_of(claim.address_id, _named_by(claim))
        with self.db.read() as conn:
            waiting = conn.execute(select(notify_subscriptions.c.id).where(
                _named_by(claim), notify_subscriptions.c.confirmed_at.is_(None)).limit(1)
            ).first()
        return views, waiting is None

    def named_by(self, claim: AddressClaim) -> list[SubscriptionView]:
        """The subscriptions a link from an email is about (those left of them)."""
        return self.subscriptions_of(claim.address_id, _named_by(claim))

    def subscriptions_of(
        self, address_id: int, only: ColumnElement[bool] | None = None
    ) -> list[SubscriptionView]:
        condition = notify_subscriptions.c.address_id == address_id
        if only is not None:
            condition = condition & only
        with self.db.read() as conn:
            return views(conn, condition)

    def not_me(self, address_id: int, subscription_ids: list[int]) -> int:
        """A confirmation email's reader says "not me": end the subscriptions it asked
        about, and let their sites' forms ask this address nothing more until its reader
        subscribes themselves (confirms from an email's link, or subscribes signed in with
        the address verified). Returns how many ended."""
        now = datetime.now(UTC)
        mine = (notify_subscriptions.c.address_id == address_id) & (
            notify_subscriptions.c.id.in_(subscription_ids))
        for attempt in attempts("a reader's 'not me'", idempotent=True):  # (twice is once)
            with attempt, self.db.write() as conn:
                site_ids = set(conn.execute(select(notify_subscriptions.c.site_id)
                                            .where(mine)).scalars())
                known = set(conn.execute(select(notify_refusals.c.site_id).where(
                    notify_refusals.c.address_id == address_id)).scalars())
                for site_id in sorted(site_ids - known):
                    try:
                        with conn.begin_nested():
                            conn.execute(insert(notify_refusals).values(
                                address_id=address_id, site_id=site_id, refused_at=now))
                    except IntegrityError:
                        pass  # the same "not me", clicked twice at once (PostgreSQL)
                ended: int = conn.execute(delete(notify_subscriptions).where(mine)).rowcount
        return ended

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


def views(conn: Connection, condition: ColumnElement[bool]) -> list[SubscriptionView]:
    """The subscriptions ``condition`` picks, as pages and emails list them."""
    rows = conn.execute(
        select(
            notify_subscriptions.c.id, notify_subscriptions.c.site_id,
            notify_subscriptions.c.thread_key, notify_subscriptions.c.kind,
            sites.c.name.label("site_name"), threads.c.title, threads.c.url,
        )
        .join(sites, sites.c.id == notify_subscriptions.c.site_id)
        .outerjoin(threads, (threads.c.site_id == notify_subscriptions.c.site_id)
                   & (threads.c.key == notify_subscriptions.c.thread_key))
        .where(condition)
        .order_by(notify_subscriptions.c.id)
    ).all()
    return [
        SubscriptionView(r.id, r.site_id, r.site_name, r.thread_key,
                         r.title or r.url or r.thread_key, r.url, SubscriptionKind(r.kind))
        for r in rows
    ]


def _named_by(claim: AddressClaim) -> ColumnElement[bool]:
    """The address's subscriptions a confirmation link is about: those it lists, or for
    a link from before consent per subscription (it lists none), those made by the time
    it was signed (to the second). A claim made in code with neither: all of them."""
    mine = notify_subscriptions.c.address_id == claim.address_id
    if claim.subscription_ids:
        return mine & notify_subscriptions.c.id.in_(list(claim.subscription_ids))
    if claim.issued_at is None:
        return mine
    return mine & (notify_subscriptions.c.created_at < claim.issued_at + timedelta(seconds=1))


def _lift_cap(conn: Connection, address_id: int, now: datetime) -> None:
    """Inside the transaction that confirmed subscriptions from an email: its reader
    answered, so the hourly cap no longer holds back their next confirmation. One
    waiting for the cap (asked for meanwhile, a second thread) leaves now; otherwise the
    next one asked for leaves at once."""
    waiting = and_(
        notify_outbox.c.kind == MessageKind.CONFIRM.value,
        notify_outbox.c.address_id == address_id,
        notify_outbox.c.sent_at.is_(None), notify_outbox.c.failed_at.is_(None),
        notify_outbox.c.claimed_at.is_(None), notify_outbox.c.due_at > now,
    )
    released = conn.execute(update(notify_outbox).where(waiting).values(due_at=now)).rowcount
    conn.execute(update(notify_addresses).where(notify_addresses.c.id == address_id)
                 .values(confirmation_sent_at=now if released else None))


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
