"""The delivery worker: claims due outbox batches and sends them, with retries.

Run inside ``rostra serve`` (setting ``worker``) or alone as ``rostra worker``; any number
of workers may share one database. A batch is marked sent right after the transport
accepted it, so a worker that stops between two batches loses and repeats nothing; one
killed while claiming leaves a claim that another worker takes over after the lease.
Each worker also deletes, hourly, the rows sent or given up longer ago than
``notify_outbox_retention_days`` (``prune``): several doing so at once delete each row once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from sqlalchemy import Row, select

from rostra.config import Settings
from rostra.core.errors import InvalidInput
from rostra.core.models import CommentState
from rostra.core.sealing import Purpose, Sealer, Unsealable
from rostra.moderation.policy import parse_policy
from rostra.notify import outbox
from rostra.notify.alerts import FAILURES_SHOWN, FLAGGED, HELD
from rostra.notify.dsa_mail import site_language
from rostra.notify.mail import SmtpTransport, build_message
from rostra.notify.model import MessageKind, TransportError, comment_url
from rostra.notify.templates import catalog, render_email
from rostra.notify.tokens import NotifyTokens
from rostra.notify.webhooks import WebhookTransport
from rostra.services.subscriptions import mark_bounced, views
from rostra.store.account_tables import reader_sign_in_links
from rostra.store.db import Database, attempts
from rostra.store.dsa_tables import dsa_notices, dsa_statements
from rostra.store.moderation_tables import flags
from rostra.store.notify_tables import notify_addresses, notify_subscriptions, notify_webhooks
from rostra.store.tables import comments, sites, threads

log = logging.getLogger("rostra.notify")


def site_redress(conn: Any, site_id: str | None) -> str:
    """Where else the site tells authors and notifiers to turn (``dsa.redress``): every
    statement and decision names it, the emailed ones too."""
    settings = conn.scalar(select(sites.c.settings).where(sites.c.id == site_id))
    section = settings.get("moderation") if isinstance(settings, dict) else None
    try:
        return parse_policy(section if isinstance(section, dict) else None).dsa.redress
    except InvalidInput:  # validated when saved; the defaults apply (as for the checks)
        return ""


class MailTransport(Protocol):
    async def send(self, message: Any, recipient: str) -> None: ...


class HookTransport(Protocol):
    async def send(self, url: str, secret: str, body: bytes, event: str,
                   delivery: str) -> None: ...


class Dropped(Exception):
    """Nothing to send for this batch any more (address gone or bounced, comments gone)."""


# Caps of one moderator alert email: comments listed, their text, and the whole body.
ALERT_ITEMS = 50
ALERT_TEXT = 1000
ALERT_BYTES = 150_000
# How long a digest row about a comment that went back to the queue waits for the
# moderator's decision before its digest leaves without it (see _without_undecided).
UNDECIDED_WAIT = timedelta(days=30)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def unsealable_webhook(site_id: str, webhook_id: int, url: str, exc: Unsealable) -> str:
    """What an operator reads when a webhook's secret cannot be opened."""
    return (f"webhook {webhook_id} of site {site_id!r} ({url}) is not called: its secret is "
            f"{exc.reason}. Set secret_key back to the key it was sealed with, or re-seal "
            "it with `rostra secrets seal --previous-key-file OLD_KEY_FILE`, or remove the "
            "webhook and add it again (with a new secret for its receiver)")


class NoPublicUrl(Exception):
    """Email links need ``public_url``; none is set."""


def base_url(settings: Settings) -> str:
    """Where links in emails point: ``public_url`` and nothing else. A request's Host
    header (or a URL stored from one) can be forged, so it never makes a link."""
    if not settings.public_url:
        raise NoPublicUrl("public_url is not set: emails with links cannot be sent")
    return settings.public_url.rstrip("/")


class Worker:
    """Delivers the outbox. ``run`` loops until stopped; ``run_once`` delivers what is
    due now and returns how many batches it handled."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        tokens: NotifyTokens,
        *,
        mail: MailTransport | None = None,
        webhooks: HookTransport | None = None,
        worker_id: str | None = None,
        poll_seconds: float = 5.0,
        lease_seconds: float = 300.0,
        retry_base_seconds: float = 30.0,
        retry_max_seconds: float = 6 * 3600.0,
        max_attempts: int = 12,
        batch_limit: int = 50,
        prune_seconds: float = 3600.0,
        prune_chunk: int = 2000,
    ) -> None:
        self.settings = settings
        self.db = db
        self.tokens = tokens
        self.sealer = Sealer(settings.secret_key)
        self.mail: MailTransport = mail or SmtpTransport(settings)
        self.webhooks: HookTransport = webhooks or WebhookTransport(
            settings.allow_private_webhooks
        )
        self.worker_id = worker_id or (
            f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(3)}"
        )
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.max_attempts = max_attempts
        self.batch_limit = batch_limit
        self.prune_seconds = prune_seconds
        self.prune_chunk = prune_chunk
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None

    # -- the loop ------------------------------------------------------------

    def wake(self) -> None:
        """Look at the outbox now (thread-safe; a comment listener calls it after commit)."""
        loop, event = self._loop, self._wakeup
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver until ``stop`` is set or the task is cancelled."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        log.info("notification worker %s started", self.worker_id)
        try:
            next_prune = time.monotonic()
            while stop is None or not stop.is_set():
                self._wakeup.clear()
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + self.prune_seconds
                    try:
                        await asyncio.to_thread(self.prune)
                    except Exception:  # keep delivering; the next round retries
                        log.exception("pruning the notification outbox failed")
                try:
                    handled = await self.run_once()
                except Exception:  # a broken row or a database hiccup: keep serving
                    log.exception("notification worker pass failed")
                    handled = 0
                if handled:
                    continue
                delay = await asyncio.to_thread(self._seconds_to_next_due)
                waiters = [asyncio.ensure_future(self._wakeup.wait())]
                if stop is not None:
                    waiters.append(asyncio.ensure_future(stop.wait()))
                _done, pending = await asyncio.wait(
                    waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED
                )
                for task in pending:
                    task.cancel()
        finally:
            self._loop = self._wakeup = None
            log.info("notification worker %s stopped", self.worker_id)

    def _seconds_to_next_due(self) -> float:
        now = datetime.now(UTC)
        with self.db.read() as conn:
            due = outbox.next_due(conn, now - self.lease)
        if due is None:
            return self.poll_seconds
        return max(0.01, min(self.poll_seconds, (due - now).total_seconds()))

    async def run_once(
        self, max_batches: int | None = None, now: datetime | None = None
    ) -> int:
        """Claim and deliver the batches due at ``now`` (default: the current time), one
        after another; returns how many batches were handled."""
        limit = self.batch_limit if max_batches is None else max_batches
        at = now or datetime.now(UTC)
        keys = await asyncio.to_thread(self._due, at, limit)
        handled = 0
        for key in keys:
            # Claimed at the current time, not at `at`: a lease runs from the claim, and
            # a batch claimed late in a long pass must not look stale to other workers.
            rows = await asyncio.to_thread(self.claim, key)
            if rows:
                await self.deliver(rows)
                handled += 1
        return handled

    def _due(self, now: datetime, limit: int) -> list[str]:
        """Batches due at ``now``; claims are stale by the current time."""
        with self.db.read() as conn:
            return outbox.due_batches(conn, now, datetime.now(UTC) - self.lease, limit)

    def claim(self, batch_key: str, now: datetime | None = None) -> list[Row[Any]]:
        """Claim a batch's claimable rows for this worker, as at ``now`` (default: the
        current time). Public so that tests can play a worker that dies right after
        claiming."""
        at = now or datetime.now(UTC)
        with self.db.write() as conn:
            return outbox.claim(conn, batch_key, self.worker_id, at, at - self.lease,
                                skip_locked=not self.db.is_sqlite)

    # -- retention -------------------------------------------------------------

    def prune(self, now: datetime | None = None) -> int:
        """Delete the rows sent or given up more than ``notify_outbox_retention_days``
        before ``now`` (default: the current time), in chunks of ``prune_chunk`` rows,
        each its own transaction; returns how many went. Nothing that decides what to send
        reads those rows (a comment is announced once by ``notify_announced``, a
        confirmation resent by ``notify_addresses.confirmation_sent_at``, sign-in links
        counted in their own table); failed moderator alerts stay while the admin lists
        them (``alerts.FAILURES_SHOWN``)."""
        at = now or datetime.now(UTC)
        before = at - timedelta(days=self.settings.notify_outbox_retention_days)
        staff_before = min(before, at - FAILURES_SHOWN)
        total = 0
        while True:
            # A chunk runs again after a deadlock or a lost connection, even one lost at
            # COMMIT: the rows it deleted are gone, so done twice is done once.
            for attempt in attempts("pruning the notification outbox", idempotent=True):
                with attempt, self.db.write() as conn:
                    deleted = outbox.prune(conn, before=before,
                                           staff_failures_before=staff_before,
                                           limit=self.prune_chunk)
            total += deleted
            if deleted < self.prune_chunk:
                if total:
                    log.info("pruned %d notification(s) older than %d days from the outbox",
                             total, self.settings.notify_outbox_retention_days)
                return total

    # -- one batch -----------------------------------------------------------

    async def deliver(self, rows: Sequence[Row[Any]]) -> None:
        """Send one claimed batch and record the outcome."""
        if rows[0].kind == MessageKind.DIGEST.value:
            rows = await asyncio.to_thread(self._without_undecided, rows)
            if not rows:
                return
        ids = [row.id for row in rows]
        first = rows[0]
        try:
            if first.kind == MessageKind.WEBHOOK.value:
                await self._send_webhook(first)
            else:
                try:
                    message, recipient = await asyncio.to_thread(self._compose, rows)
                except ValueError as exc:  # a header the email library refuses: for good
                    raise Dropped(f"cannot build the message: {exc}") from None
                await self.mail.send(message, recipient)
        except asyncio.CancelledError:
            # Stopping: give the rows back so the next worker sends them at once.
            self._write(lambda conn: outbox.release(conn, ids, self.worker_id))
            raise
        except Dropped as dropped:
            reason = f"dropped: {dropped}"
            await self._record(lambda conn: outbox.mark_failed(
                conn, ids, self.worker_id, datetime.now(UTC), reason))
        except TransportError as exc:
            await self._failed(rows, exc)
        except NoPublicUrl as exc:  # a configuration fault: keep the rows for after the fix
            await self._failed(rows, TransportError(str(exc)))
        except Exception as exc:  # our own bug: retry later rather than lose the rows
            log.exception("delivering %s failed", first.batch_key)
            await self._failed(rows, TransportError(f"{type(exc).__name__}: {exc}"))
        else:
            sent_at = datetime.now(UTC)  # one moment for every try (see mark_sent)
            done = await self._record_count(lambda conn: outbox.mark_sent(
                conn, ids, self.worker_id, sent_at))
            if done != len(ids):
                log.warning("batch %s: claim taken over while sending", first.batch_key)

    def _without_undecided(self, rows: Sequence[Row[Any]]) -> list[Row[Any]]:
        """A digest's rows less those about comments back in the queue, which wait for
        the moderator's decision (at most ``UNDECIDED_WAIT``): approved again, they leave
        then (``outbox.bring_forward``). Leaving without them and counting them sent lost
        a comment for the subscribers whose digest an SMTP failure held up while the
        others' left (those made it stay announced: ``OutboxHook.withdraw``)."""
        now = datetime.now(UTC)
        ids = [row.id for row in rows if row.comment_id is not None]
        aside = set(self._write(lambda conn: outbox.set_aside_undecided(
            conn, ids, self.worker_id, now + UNDECIDED_WAIT, now - UNDECIDED_WAIT)))
        return [row for row in rows if row.id not in aside]

    async def _failed(self, rows: Sequence[Row[Any]], exc: TransportError) -> None:
        ids = [row.id for row in rows]
        first = rows[0]
        attempts = max(row.attempts for row in rows) + 1
        now = datetime.now(UTC)
        if exc.permanent or attempts >= self.max_attempts:
            log.warning("giving up on %s after %d attempt(s): %s", first.batch_key, attempts, exc)

            staff = first.kind == MessageKind.MODERATOR.value

            def give_up(conn: Any) -> None:
                outbox.mark_failed(conn, ids, self.worker_id, now, str(exc))
                # A reader's address that bounces gets nothing more: only a refusal of
                # the address itself, not of this one message (its size, its content, our
                # sender). A staff address is never silenced that way (one refused alert
                # would stop every later one): the failure is shown in the admin instead.
                if (exc.bounced and first.channel == "email" and self.settings.smtp_host
                        and not staff):
                    mark_bounced(conn, first.recipient.lower(), str(exc), now)

            if staff:
                log.error("moderator alert to %s for site %s failed: %s", first.recipient,
                          first.site_id, exc)

            await self._record(give_up)
            return
        delay = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** (attempts - 1))
        log.info("retrying %s in %.0fs: %s", first.batch_key, delay, exc)
        await self._record(lambda conn: outbox.reschedule(
            conn, ids, self.worker_id, now + timedelta(seconds=delay), str(exc)))

    def _write(self, action: Callable[[Any], Any]) -> Any:
        """Record a batch's outcome (sent, retried, given up, released). Run again after
        a deadlock or a lost connection, even one lost at COMMIT: each write changes only
        rows still this worker's, so done twice is done once. Raised instead, it left the
        rows claimed, and another worker sent the message again after the lease."""
        for attempt in attempts("recording a delivery", idempotent=True):
            with attempt, self.db.write() as conn:
                result = action(conn)
        return result

    async def _record(self, action: Callable[[Any], Any]) -> None:
        await asyncio.to_thread(self._write, action)

    async def _record_count(self, action: Callable[[Any], int]) -> int:
        return int(await asyncio.to_thread(self._write, action))

    # -- webhooks --------------------------------------------------------------

    async def _send_webhook(self, row: Row[Any]) -> None:
        with self.db.read() as conn:
            hook = conn.execute(
                select(notify_webhooks).where(notify_webhooks.c.id == row.webhook_id)
            ).first()
        if hook is None or not hook.active:
            raise Dropped("webhook removed or inactive")
        try:
            secret = self.sealer.open(hook.secret, Purpose.WEBHOOK)
        except Unsealable as exc:
            # A configuration fault: retried with backoff, so that deliveries resume once
            # the operator puts the key back or re-seals.
            problem = unsealable_webhook(hook.site_id, hook.id, hook.url, exc)
            log.error("%s", problem)
            raise TransportError(problem) from None
        body = json.dumps(row.payload, separators=(",", ":"), ensure_ascii=False).encode()
        await self.webhooks.send(hook.url, secret, body, row.payload["event"],
                                 row.payload["delivery"])

    # -- emails ------------------------------------------------------------------

    def _compose(self, rows: Sequence[Row[Any]]) -> tuple[Any, str]:
        first = rows[0]
        with self.db.read() as conn:
            address = None
            if first.address_id is not None:
                address = conn.execute(
                    select(notify_addresses).where(notify_addresses.c.id == first.address_id)
                ).first()
            else:
                address = conn.execute(
                    select(notify_addresses)
                    .where(notify_addresses.c.email == first.recipient.lower())
                ).first()
            # A confirmation may go to a bounced address: the reader asked for it again,
            # and confirming is how a bounce ends.
            if (address is not None and address.bounced_at is not None
                    and first.kind not in (MessageKind.MODERATOR.value,
                                           MessageKind.CONFIRM.value)):
                raise Dropped("the address bounced")
            if first.kind == MessageKind.CONFIRM.value:
                return self._confirmation(conn, rows, address), first.recipient
            if first.kind == MessageKind.DIGEST.value:
                return self._digest(conn, rows, address), first.recipient
            if first.kind == MessageKind.MODERATOR.value:
                return self._moderator(conn, rows), first.recipient
            if first.kind == MessageKind.SIGN_IN.value:
                return self._sign_in(conn, first), first.recipient
            if first.kind == MessageKind.DSA.value:
                return self._dsa(conn, first), first.recipient
        raise Dropped(f"unknown message kind {first.kind!r}")

    def _site_name(self, conn: Any, site_id: str | None) -> str:
        name = conn.execute(select(sites.c.name).where(sites.c.id == site_id)).scalar()
        return str(name or site_id or "")

    def _confirmation(self, conn: Any, rows: Sequence[Row[Any]],
                      address: Row[Any] | None) -> Any:
        """One email asking to confirm the subscriptions its rows name, listing each: its
        link confirms those and no other (rows queued before consent per subscription
        name none; theirs confirms what the address had by then)."""
        if address is None:
            raise Dropped("the address is gone")
        first = rows[0]
        wanted = tuple(sorted({r.subscription_id for r in rows if r.subscription_id}))
        # A bounced address confirms again what its rows name, confirmed or not: that is
        # how its reader ends the bounce.
        bounced = address.bounced_at is not None
        named = notify_subscriptions.c.id.in_(list(wanted))
        listed = views(conn, named if bounced
                       else named & notify_subscriptions.c.confirmed_at.is_(None)
                       ) if wanted else []
        if wanted and not listed:
            raise Dropped("ended" if bounced else "confirmed already or ended")
        if not wanted and address.confirmed_at is not None and not bounced:
            raise Dropped("confirmed already")
        ids = tuple(v.id for v in listed)
        t = catalog(address.language)
        base = base_url(self.settings)
        token = self.tokens.confirm_token(address.id, address.email, ids)
        manage_token = self.tokens.address_token(address.id, address.email, ids, not_me=True)
        rendered = render_email(
            "confirm", address.language, email=address.email,
            site_name=listed[0].site_name if listed else self._site_name(conn, first.site_id),
            confirm_url=f"{base}/notify/confirm?token={token}",
            # The visible "not me": the one-click unsubscribe's token, on a page that
            # asks first (a link that names no subscription is no "not me").
            not_me_url=f"{base}/notify/not-me?token={manage_token}" if ids else None,
            subscriptions=[{"title": v.title, "url": v.url, "site_name": v.site_name,
                            "kind_label": t[f"kind_{v.kind.value}"]} for v in listed],
        )
        return build_message(
            rendered, sender=self.settings.mail_from, to=address.email,
            unsubscribe_url=f"{base}/notify/unsubscribe?token={manage_token}",
            language=address.language,
        )

    def _sign_in(self, conn: Any, row: Row[Any]) -> Any:
        link = conn.execute(select(reader_sign_in_links).where(
            reader_sign_in_links.c.id == (row.payload or {}).get("link_id"))).first()
        if link is None or link.used_at is not None or link.expires_at <= datetime.now(UTC):
            raise Dropped("the sign-in link was used, has expired or is gone")
        base = base_url(self.settings)
        url = f"{base}/auth/email/link?token={self.tokens.sign_in_token(link.id)}"
        minutes = max(1, round((link.expires_at - link.created_at).total_seconds() / 60))
        rendered = render_email("sign_in", link.language or "en",
                                site_name=self._site_name(conn, link.site_id), sign_in_url=url,
                                minutes=minutes)
        return build_message(rendered, sender=self.settings.mail_from, to=link.email,
                             language=link.language)

    def _digest(self, conn: Any, rows: Sequence[Row[Any]], address: Row[Any] | None) -> Any:
        if address is None or address.confirmed_at is None:
            raise Dropped("the address is gone or not confirmed")
        first = rows[0]
        thread = conn.execute(select(threads).where(threads.c.id == first.thread_id)).first()
        if thread is None:
            raise Dropped("the thread is gone")
        wanted = {row.comment_id: row for row in rows}
        found = conn.execute(
            select(comments).where(
                comments.c.id.in_(list(wanted)),
                comments.c.state == CommentState.APPROVED.value,
            ).order_by(comments.c.created_at, comments.c.id)
        ).all()
        if not found:
            raise Dropped("no approved comments left")
        base = base_url(self.settings)
        sub_ids = tuple(sorted({row.subscription_id for row in rows if row.subscription_id}))
        language = self._subscription_language(conn, sub_ids) or address.language
        anonymous = catalog(language)["anonymous"]
        items = [
            {
                "author": comment.author_name or anonymous,
                "text": comment.text,
                "html": comment.html,
                "url": comment_url(thread.url, comment.id) or thread.url or "",
                "reply_to_you": bool(wanted[comment.id].payload.get("reply_to_you")),
            }
            for comment in found
        ]
        manage = self.tokens.address_token(address.id, address.email)
        one_click = self.tokens.address_token(address.id, address.email, sub_ids)
        kinds = {row.payload.get("kind") for row in rows}
        rendered = render_email(
            "digest", language, title=thread.title or thread.url or thread.key, items=items,
            kind="replies" if kinds == {"replies"} else "thread",
            manage_url=f"{base}/notify/manage?token={manage}",
        )
        return build_message(
            rendered, sender=self.settings.mail_from, to=address.email,
            unsubscribe_url=f"{base}/notify/unsubscribe?token={one_click}", language=language,
        )

    @staticmethod
    def _subscription_language(conn: Any, sub_ids: tuple[int, ...]) -> str | None:
        if not sub_ids:
            return None
        value = conn.execute(
            select(notify_subscriptions.c.language)
            .where(notify_subscriptions.c.id.in_(list(sub_ids)))
            .order_by(notify_subscriptions.c.id.desc())
        ).scalar()
        return str(value) if value else None

    def _dsa(self, conn: Any, row: Row[Any]) -> Any:
        """A DSA message: a notice's receipt or decision to its notifier, a statement of
        reasons or an appeal's outcome to a comment's author (see services.dsa)."""
        from rostra.notify.dsa_mail import compose

        rendered = compose(conn, row, base_url(self.settings), self.tokens,
                           self._site_name(conn, row.site_id), site_redress(conn, row.site_id))
        if rendered is None:
            raise Dropped("what the message was about is gone")
        return build_message(rendered, sender=self.settings.mail_from, to=row.recipient,
                             language=rendered.language)

    @staticmethod
    def _open_reports(conn: Any, ids: list[int]) -> tuple[set[int], set[int]]:
        """Of these comments: those with an open reader's flag, and those with an open
        DSA notice or an undecided appeal (what ``alerts.comment_flagged`` is told of)."""
        flagged = set(conn.execute(
            select(flags.c.comment_id)
            .where(flags.c.comment_id.in_(ids), flags.c.resolved_at.is_(None))
        ).scalars())
        disputed = set(conn.execute(
            select(dsa_notices.c.comment_id)
            .where(dsa_notices.c.comment_id.in_(ids), dsa_notices.c.status == "open")
            .union(
                select(dsa_statements.c.comment_id)
                .where(dsa_statements.c.comment_id.in_(ids),
                       dsa_statements.c.appealed_at.is_not(None),
                       dsa_statements.c.appeal_decided_at.is_(None)))
        ).scalars())
        return flagged, disputed

    def _moderator(self, conn: Any, rows: Sequence[Row[Any]]) -> Any:
        first = rows[0]
        found = {
            c.id: c for c in conn.execute(
                select(comments, threads.c.title, threads.c.url.label("thread_url"),
                       threads.c.key)
                .join(threads, threads.c.id == comments.c.thread_id)
                .where(comments.c.id.in_([row.comment_id for row in rows]))
            ).all()
        }
        flagged, disputed = self._open_reports(conn, list(found))
        base = base_url(self.settings)
        items: list[dict[str, Any]] = []
        seen: set[int] = set()
        size = 0
        more = 0
        for row in rows:
            comment = found.get(row.comment_id)
            reason = row.payload.get("reason", HELD)
            if comment is None or comment.id in seen:
                continue
            # Only what still waits for a moderator: a held comment still in the queue; a
            # flagged one with an undecided DSA notice or appeal, or still up with a
            # reader's flag nobody answered (a decision answers them).
            if reason == FLAGGED:
                if comment.id not in disputed and not (
                    comment.id in flagged and comment.state == CommentState.APPROVED.value
                ):
                    continue
            elif comment.state != CommentState.PENDING.value:
                continue
            seen.add(comment.id)
            # A flood of held comments must not make an email that no server takes: past
            # the caps, comments are only counted, and the email links to the queue.
            if len(items) >= ALERT_ITEMS or size >= ALERT_BYTES:
                more += 1
                continue
            text = _shorten(comment.text or "", ALERT_TEXT)
            html = comment.html if len(comment.html or "") <= ALERT_TEXT * 2 else None
            size += len(text) + len(html or text) + 500
            items.append({
                "reason": reason, "detail": row.payload.get("detail"),
                "author": comment.author_name or "—", "text": text, "html": html,
                "thread_title": comment.title or comment.key,
                "url": f"{base}/admin/?site={first.site_id}&comment={comment.id}",
            })
        if not items:
            raise Dropped("every comment was decided already")
        # In the site's language, as its DSA emails: moderators have no language of their own.
        language = site_language(conn, first.site_id)
        t = catalog(language)
        for item in items:
            item["reason"] = t.get(f"reason_{item['reason']}", item["reason"])
        rendered = render_email(
            "moderator", language, items=items, total=len(items) + more, more=more,
            queue_url=f"{base}/admin/queue?site={quote(first.site_id or '')}",
            site_name=self._site_name(conn, first.site_id))
        return build_message(rendered, sender=self.settings.mail_from, to=first.recipient,
                             language=language)
