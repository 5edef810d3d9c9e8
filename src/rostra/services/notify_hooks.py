"""What a change to a comment causes: subscriber emails, moderator alerts, webhooks.

``OutboxHook`` runs inside the comment's write transaction (``CommentService.tx_hooks``)
and only writes outbox rows; the worker delivers them after commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select

from rostra.config import Settings
from rostra.core.models import CommentState
from rostra.core.thread_keys import public_website
from rostra.notify import alerts, outbox
from rostra.notify.model import Channel, MessageKind, SubscriptionKind, WebhookEvent, comment_url
from rostra.services.comment_values import READERS
from rostra.services.comments import CommentEvent, EventKind
from rostra.services.serialise import iso
from rostra.services.sites import SiteService
from rostra.store import queries
from rostra.store.db import at_commit, transaction_memo
from rostra.store.notify_tables import (
    notify_addresses,
    notify_announced,
    notify_outbox,
    notify_subscription_comments,
    notify_subscriptions,
    notify_webhooks,
)
from rostra.store.tables import comments

_ACTIVE_WEBHOOKS = select(notify_webhooks).where(
    notify_webhooks.c.site_id == bindparam("site_id"), notify_webhooks.c.active.is_(True)
)

_ANNOUNCED = insert(notify_announced)
_SUBSCRIBERS = (
    select(notify_subscriptions.c.id, notify_subscriptions.c.kind,
           notify_subscriptions.c.address_id, notify_subscriptions.c.base_url,
           notify_subscriptions.c.voter_id, notify_subscriptions.c.account_id,
           notify_addresses.c.email)
    .join(notify_addresses, notify_addresses.c.id == notify_subscriptions.c.address_id)
    .where(notify_subscriptions.c.site_id == bindparam("site_id"),
           notify_subscriptions.c.thread_key == bindparam("thread_key"),
           notify_subscriptions.c.confirmed_at.is_not(None),
           notify_addresses.c.bounced_at.is_(None))
    .order_by(notify_subscriptions.c.id)
)
# The comments the subscriptions follow, with who wrote them.
_FOLLOWED = (
    select(notify_subscription_comments.c.subscription_id,
           notify_subscription_comments.c.comment_id, comments.c.voter_id,
           comments.c.account_id)
    .join(comments, comments.c.id == notify_subscription_comments.c.comment_id)
    .where(notify_subscription_comments.c.subscription_id.in_(
        bindparam("subscription_ids", expanding=True)))
)

# A held comment that gets approved is news; one restored from spam or rejection is too.
ANNOUNCE_FROM = {CommentState.PENDING, CommentState.SPAM, CommentState.REJECTED}


def webhook_payload(
    event: WebhookEvent, site_id: str, thread: Row[Any], comment: Row[Any], delivery: str
) -> dict[str, Any]:
    """The JSON body of a webhook call (docs/notifications.md shows it)."""
    return {
        "event": event.value,
        "delivery": delivery,
        "occurred_at": iso(datetime.now(UTC)),
        "site": site_id,
        "thread": {"id": thread.id, "key": thread.key, "url": thread.url,
                   "title": thread.title},
        "comment": {
            "id": comment.id, "parent_id": comment.parent_id, "state": comment.state,
            # As thread pages and feeds show it: an import may have stored javascript:.
            "author": {"name": comment.author_name,
                       "website": public_website(comment.author_website)},
            "text": comment.text, "html": comment.html,
            "created_at": iso(comment.created_at), "edited_at": iso(comment.edited_at),
            "url": comment_url(thread.url, comment.id),
        },
    }


class OutboxHook:
    """The transaction hook: turns comment events into outbox rows."""

    def __init__(self, settings: Settings, sites: SiteService) -> None:
        self.settings = settings
        self.sites = sites
        # site id -> the sites' generation at which it had no webhook: most sites have
        # none, and posting need not ask again until the sites are read again.
        self._without_webhooks: dict[str, int] = {}

    @property
    def email_enabled(self) -> bool:
        return bool(self.settings.smtp_host)

    def __call__(self, conn: Connection, event: CommentEvent) -> None:
        hook_events: list[WebhookEvent] = []
        if event.kind is EventKind.CREATED:
            hook_events.append(WebhookEvent.CREATED)
            if event.new_state is CommentState.APPROVED:
                self.announce(conn, event)
            elif event.new_state is CommentState.PENDING:
                alerts.comment_held(conn, event.comment_id)
        elif event.kind is EventKind.STATE_CHANGED:
            if event.old_state is CommentState.APPROVED and event.new_state in ANNOUNCE_FROM:
                self.withdraw(conn, event)
            if event.new_state is CommentState.APPROVED:
                hook_events.append(WebhookEvent.APPROVED)
                if event.old_state in ANNOUNCE_FROM:
                    self.announce(conn, event)
            elif event.new_state is CommentState.DELETED:
                hook_events.append(WebhookEvent.DELETED)
            elif event.new_state is CommentState.PENDING and event.actor is None:
                # An edit sent an approved comment back to the queue.
                alerts.comment_held(conn, event.comment_id, "edited")
            elif event.new_state is CommentState.PENDING and event.actor == READERS:
                # Readers' flags hid it: as held, since it waits in the queue now.
                alerts.comment_held_by_flags(conn, event.comment_id)
        if hook_events:
            self.webhooks(conn, event, hook_events)

    # -- subscribers ---------------------------------------------------------

    def announce(self, conn: Connection, event: CommentEvent) -> None:
        """Queue the comment for every confirmed subscriber it concerns, once per comment.

        A posting batch announces each new comment: four statements a comment were a
        round trip each on PostgreSQL, and posting with email on ran at half its speed.
        A new comment was never announced before, and its mark goes with the commit;
        the thread's subscribers are read once a transaction; and the comment is read
        back only when somebody is to be told."""
        if not self.email_enabled:
            return
        now = datetime.now(UTC)
        if event.kind is EventKind.CREATED:
            at_commit(conn, _ANNOUNCED, {"comment_id": event.comment_id, "announced_at": now})
        else:
            if conn.execute(
                select(notify_announced.c.comment_id)
                .where(notify_announced.c.comment_id == event.comment_id)
            ).first() is not None:
                # Approved once before: subscribers heard of it then, but for those whose
                # digest was still to go when it went back to the queue (the worker set
                # their rows aside): theirs leaves now, as a batch does.
                outbox.bring_forward(conn, event.comment_id, now + timedelta(
                    seconds=self.settings.notify_batch_seconds))
                return
            conn.execute(insert(notify_announced).values(comment_id=event.comment_id,
                                                         announced_at=now))
        subs = self._subscribers(conn, event.site_id, event.thread_key)
        if not subs:
            return
        comment = event.row if event.row is not None else queries.comment_row(
            conn, event.comment_id)
        if comment is None:
            return
        author_email = (comment.author_email or "").lower()
        parent: Any = None  # its author_email (lower case), voter_id and account_id
        if comment.parent_id is not None:
            parent = conn.execute(
                select(func.lower(func.coalesce(comments.c.author_email, "")).label("email"),
                       comments.c.voter_id, comments.c.account_id)
                .where(comments.c.id == comment.parent_id)
            ).first()
        parent_email = parent.email if parent is not None else ""
        own, parent_followers = self._own_and_parents(
            self._followed(conn, event.site_id, event.thread_key, subs), subs, comment, parent)
        own_addresses = {s.address_id for s in subs if s.id in own}
        chosen: dict[int, tuple[Any, bool]] = {}
        for sub in subs:
            if sub.email == author_email or sub.address_id in own_addresses:
                continue  # never tell authors about their own comments
            if sub.kind == SubscriptionKind.REPLIES.value:
                is_reply = comment.parent_id is not None and (
                    (parent_email and sub.email == parent_email) or sub.id in parent_followers
                )
                if is_reply:
                    chosen[sub.address_id] = (sub, True)
            elif sub.address_id not in chosen:
                chosen[sub.address_id] = (sub, False)
        due = now + timedelta(seconds=self.settings.notify_batch_seconds)
        for sub, reply_to_you in chosen.values():
            outbox.enqueue(
                conn, channel=Channel.EMAIL, kind=MessageKind.DIGEST,
                batch_key=f"digest:{sub.address_id}:{event.thread_id}", recipient=sub.email,
                payload={"reply_to_you": bool(reply_to_you), "kind": sub.kind,
                         "base_url": sub.base_url},
                now=now, due_at=due, address_id=sub.address_id, subscription_id=sub.id,
                site_id=event.site_id, thread_id=event.thread_id, comment_id=comment.id,
            )

    def withdraw(self, conn: Connection, event: CommentEvent) -> None:
        """An approved comment went back to the queue (an edit, readers' flags, a
        moderator) or out of it. If no email about it has left yet, nor is leaving, its
        waiting emails forget it and so does its announcement: approved again, it is
        announced then, as the comment it is by then. Once one email about it has left,
        it stays announced (a reader is told of a comment once)."""
        if not self.email_enabled:
            return
        about = (notify_outbox.c.comment_id == event.comment_id) & (
            notify_outbox.c.kind == MessageKind.DIGEST.value)
        rows = conn.execute(
            select(notify_outbox.c.id, notify_outbox.c.sent_at, notify_outbox.c.failed_at,
                   notify_outbox.c.claimed_at).where(about)
        ).all()
        waiting = [r.id for r in rows if r.sent_at is None and r.failed_at is None]
        if not waiting or any(r.sent_at is not None or (r.claimed_at is not None
                                                        and r.failed_at is None)
                              for r in rows):
            return
        conn.execute(delete(notify_outbox).where(notify_outbox.c.id.in_(waiting)))
        conn.execute(delete(notify_announced)
                     .where(notify_announced.c.comment_id == event.comment_id))

    @staticmethod
    def _subscribers(conn: Connection, site_id: str, thread_key: str) -> Sequence[Row[Any]]:
        """The thread's confirmed subscribers, as this transaction first read them."""
        memo = transaction_memo(conn)
        key = ("subscribers", site_id, thread_key)
        if key not in memo:
            memo[key] = conn.execute(
                _SUBSCRIBERS, {"site_id": site_id, "thread_key": thread_key}).all()
        found: Sequence[Row[Any]] = memo[key]
        return found

    @staticmethod
    def _followed(conn: Connection, site_id: str, thread_key: str,
                  subs: Sequence[Row[Any]]) -> Sequence[Row[Any]]:
        """The comments the thread's subscriptions follow, with their authors' voter and
        account ids, as this transaction first read them (a batch posts many comments
        to a thread; none of them can be followed yet)."""
        memo = transaction_memo(conn)
        key = ("followed", site_id, thread_key)
        if key not in memo:
            memo[key] = conn.execute(_FOLLOWED, {"subscription_ids": [s.id for s in subs]}).all()
        found: Sequence[Row[Any]] = memo[key]
        return found

    @staticmethod
    def _own_and_parents(
        followed: Sequence[Row[Any]], subs: Sequence[Row[Any]], comment: Row[Any],
        parent: Any = None  # its author_email (lower case), voter_id and account_id,
    ) -> tuple[set[int], set[int]]:
        """The subscriptions the comment's author holds, and those whose reader wrote its
        parent.

        A subscription is the author's when it follows this comment (through its edit
        token), or was made from the comment's browser (voter id) or account, or follows
        another comment of that browser or account: a comment posted without an email
        is its author's all the same. By the same signs a subscription holds the parent:
        "replies to my comments" covers the comments its reader posts after subscribing,
        not only the one it was made with."""
        def same(row: Row[Any] | None, voter_id: str | None, account_id: int | None) -> bool:
            return row is not None and bool(
                (voter_id and voter_id == row.voter_id)
                or (account_id is not None and account_id == row.account_id))

        own = {s.id for s in subs if same(comment, s.voter_id, s.account_id)}
        parents = {s.id for s in subs if same(parent, s.voter_id, s.account_id)}
        for row in followed:
            if row.comment_id == comment.id or same(comment, row.voter_id, row.account_id):
                own.add(row.subscription_id)
            if comment.parent_id is not None and (
                row.comment_id == comment.parent_id or same(parent, row.voter_id, row.account_id)
            ):
                parents.add(row.subscription_id)
        return own, parents

    # -- webhooks ------------------------------------------------------------

    def active_webhooks(self, conn: Connection, site_id: str) -> Sequence[Row[Any]]:
        """The site's active webhooks. A site that has some reads them in each
        transaction (once: a group commit stores many comments of one site), so one
        removed meanwhile, whose calls its foreign key would refuse, is never queued.
        That a site has none is kept until the sites are read again: adding a webhook
        records a SITES change (rostra.services.webhooks), which every process hears."""
        generation = self.sites.generation()
        if self._without_webhooks.get(site_id) == generation:
            return ()
        memo = transaction_memo(conn)
        hooks: Sequence[Row[Any]] | None = memo.get(("webhooks", site_id))
        if hooks is None:
            hooks = memo[("webhooks", site_id)] = conn.execute(
                _ACTIVE_WEBHOOKS, {"site_id": site_id}).all()
        if hooks:
            self._without_webhooks.pop(site_id, None)
        else:
            self._without_webhooks[site_id] = generation
        return hooks

    def webhooks(
        self, conn: Connection, event: CommentEvent, names: list[WebhookEvent]
    ) -> None:
        hooks = self.active_webhooks(conn, event.site_id)
        if not hooks:
            return
        # A new comment's row as written; its thread read once a transaction (a batch
        # stores many comments of a thread).
        comment = event.row if event.row is not None else queries.comment_row(
            conn, event.comment_id)
        memo = transaction_memo(conn)
        if ("thread", event.thread_id) not in memo:
            memo[("thread", event.thread_id)] = queries.thread_by_id(conn, event.thread_id)
        thread = memo[("thread", event.thread_id)]
        if comment is None or thread is None:
            return
        now = datetime.now(UTC)
        for hook in hooks:
            for name in names:
                if name.value not in (hook.events or []):
                    continue
                delivery = secrets.token_hex(12)
                outbox.enqueue(
                    conn, channel=Channel.WEBHOOK, kind=MessageKind.WEBHOOK,
                    batch_key=f"webhook:{hook.id}:{delivery}", recipient=hook.url[:320],
                    payload=webhook_payload(name, event.site_id, thread, comment, delivery),
                    now=now, due_at=now, webhook_id=hook.id, site_id=event.site_id,
                    thread_id=event.thread_id, comment_id=event.comment_id,
                )
