"""Writing comments: post, edit, delete, and every change of a comment's state."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from rostra.config import Settings
from rostra.core import markup
from rostra.core.errors import (
    EditWindowClosed,
    Forbidden,
    InvalidInput,
    NotFound,
    RostraError,
    Unauthorized,
)
from rostra.core.models import CommentState
from rostra.core.sealing import Sealer
from rostra.core.site_settings import SiteSettings
from rostra.core.thread_keys import ThreadKeyError, normalise_url, origin_of, thread_key
from rostra.moderation.decision import Action, Draft, Moderator, PublishEverything
from rostra.moderation.identity import Hashing
from rostra.services.accounts import ReaderAccounts
from rostra.services.comment_batches import (
    THREAD_OFFER,
    BatchStorage,
    Listener,
    Prepared,
    TxHook,
)
from rostra.services.comment_values import (
    CommentEvent,
    EventKind,
    NewComment,
    Posted,
    RequestContext,
)
from rostra.services.serialise import comment_json, iso, shadow_published, thread_json
from rostra.services.sessions import ReaderSessions
from rostra.services.sites import SiteService
from rostra.services.tokens import Tokens
from rostra.store import changes, queries
from rostra.store.comment_insert import CommentIds
from rostra.store.db import Database, attempts, commit_unknown
from rostra.store.tables import comments, threads

EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,252}\.[^@\s<>\"]{2,63}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_TITLE = 500
MAX_URL = 2000


class CommentRefused(RostraError):
    status = 422
    code = "comment_refused"
    title = "Comment refused"


def _clean_line(value: str | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if CONTROL.search(value) or "\n" in value or "\r" in value:
        raise InvalidInput(f"{name}: must be a single line of text")
    if len(value) > limit:
        raise InvalidInput(f"{name}: at most {limit} characters", code="too_long")
    return value


def _check_website(value: str | None) -> str | None:
    value = _clean_line(value, "website", 500)
    if value is None:
        return None
    try:
        return normalise_url(value if "://" in value else f"https://{value}")
    except ThreadKeyError:
        raise InvalidInput("website: must be an http or https address") from None


def _take_offer(conn: Connection, row: Row[Any], thread: Row[Any]) -> None:
    """A comment published after it was held gives its thread the title and address it
    brought (``THREAD_OFFER``), where the thread still has none."""
    facts = (getattr(row, "moderation", None) or {}).get("facts") or {}
    offer = facts.get(THREAD_OFFER) or {}
    title, url = offer.get("title"), offer.get("url")
    if (thread.title is None and title) or (thread.url is None and url):
        conn.execute(update(threads).where(threads.c.id == thread.id).values(
            title=func.coalesce(threads.c.title, title), url=func.coalesce(threads.c.url, url)))


def _with_offer(moderation: dict[str, Any], row: Row[Any]) -> dict[str, Any]:
    """An edit's decision, keeping the title and address the comment brought while held."""
    offer = ((row.moderation or {}).get("facts") or {}).get(THREAD_OFFER)
    if offer:
        moderation["facts"] = {**moderation.get("facts", {}), THREAD_OFFER: offer}
    return moderation


def _shown_as_before(moderation: dict[str, Any], row: Row[Any]) -> dict[str, Any]:
    """An edit's decision for a comment held for a shadow ban: its author is shown what
    an ordinary author's edit would show (``facts.shadow.action``). An edit holds a
    published comment the checks would now hold, and never publishes a held one: one
    shown held (or spam, shown held) stays so, whatever the new text."""
    facts = moderation.get("facts") or {}
    shadow = facts.get("shadow")
    shown_published = row.state == CommentState.APPROVED.value or shadow_published(
        row.moderation)
    if not isinstance(shadow, dict) or shown_published:
        return moderation
    before = ((row.moderation or {}).get("facts") or {}).get("shadow") or {}
    action = before.get("action") or (
        Action.SPAM.value if row.state == CommentState.SPAM.value else Action.HOLD.value)
    moderation["facts"] = {**facts, "shadow": {**shadow, "action": action}}
    return moderation


def _check_email(value: str | None) -> str | None:
    value = _clean_line(value, "email", 320)
    if value is not None and not EMAIL.match(value):
        raise InvalidInput("email: not an email address")
    return value


class CommentService(BatchStorage):
    """The one door for changes to comments. Each method is one transaction."""

    def __init__(
        self,
        db: Database,
        sites: SiteService,
        tokens: Tokens,
        settings: Settings,
        hashing: Hashing,
        moderator: Moderator | None = None,
        accounts: ReaderAccounts | None = None,
    ) -> None:
        self.db = db
        self.sites = sites
        self.accounts = accounts or ReaderAccounts(db, tokens, ReaderSessions(db, hashing.ips),
                                                   Sealer(settings.secret_key))
        self.tokens = tokens
        self.settings = settings
        self.hashing = hashing
        self.moderator: Moderator = moderator or PublishEverything()
        self.tx_hooks: list[TxHook] = []
        self.listeners: list[Listener] = []
        # Told of new comments just before their transaction commits (in memory only:
        # the live streams must know a change is theirs before the change bus says so).
        self.committing: list[Callable[[list[CommentEvent]], None]] = []
        self.known_threads = {}
        self.comment_ids = CommentIds()

    # -- helpers -------------------------------------------------------------

    def ip_hash(self, ip: str | None) -> str | None:
        return self.hashing.ip(ip)

    def _check_text(self, text: str, site_settings: SiteSettings) -> str:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("text: must not be empty")
        text = text.replace("\r\n", "\n").strip()
        limit = min(site_settings.max_comment_length, self.settings.max_comment_length)
        if len(text) > limit:
            raise InvalidInput(f"text: at most {limit} characters", code="too_long")
        if "\x00" in text:
            raise InvalidInput("text: contains a NUL character")
        return text

    def _editable(self, comment: Row[Any], ctx: RequestContext) -> SiteSettings:
        """Raise unless the request carries this comment's edit token within the window."""
        thread = self._thread_of(comment)
        site = self.sites.get(thread.site_id)
        self.sites.check_origin(site, ctx.origin)
        site_settings = self.sites.settings_of(site.id)
        verdict = self.tokens.check_edit_token(
            ctx.edit_token, comment.id, site_settings.edit_window_seconds
        )
        if verdict == "invalid":
            raise Unauthorized("this comment's edit token is missing or wrong", code="unauthorized")
        if verdict == "expired" or (
            datetime.now(UTC) - comment.created_at
            > timedelta(seconds=site_settings.edit_window_seconds)
        ):
            raise EditWindowClosed(
                f"comments can be changed for {site_settings.edit_window_seconds // 60} minutes "
                "after posting"
            )
        if comment.state == CommentState.DELETED.value:
            raise NotFound("this comment was deleted")
        return site_settings

    def _thread_of(self, comment: Row[Any]) -> Row[Any]:
        with self.db.read() as conn:
            thread = queries.thread_by_id(conn, comment.thread_id)
        assert thread is not None
        return thread

    def site_of(self, comment_id: int) -> str | None:
        """The site of comment ``comment_id`` (None when there is no such comment)."""
        with self.db.read() as conn:
            site_id = conn.scalar(select(threads.c.site_id).join(
                comments, comments.c.thread_id == threads.c.id).where(
                comments.c.id == comment_id))
        return None if site_id is None else str(site_id)

    def _load(self, comment_id: int) -> Row[Any]:
        with self.db.read() as conn:
            row = queries.comment_row(conn, comment_id)
        if row is None:
            raise NotFound(f"no comment with id {comment_id}")
        return row

    # -- use cases -----------------------------------------------------------

    def post(self, new: NewComment, ctx: RequestContext) -> Posted:
        """Check, moderate and store a comment; the author gets an edit token."""
        prepared = self._prepare(new, ctx)
        result = self._store_all([prepared])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def post_many(
        self, items: Sequence[tuple[NewComment, RequestContext]]
    ) -> list[Posted | Exception]:
        """Post several comments with one commit: the posting lane's group commit.

        Each item gets its ``Posted`` or the exception that refused it, in order; one
        item's failure never loses, changes or refuses another. Nothing is returned
        before the transaction holding the comments has committed.
        """
        results: list[Posted | Exception | None] = [None] * len(items)
        ready: list[tuple[int, Prepared]] = []
        for index, (new, ctx) in enumerate(items):
            try:
                ready.append((index, self._prepare(new, ctx)))
            except Exception as exc:  # noqa: BLE001 - this item's answer; the others go on
                results[index] = exc
        if ready:
            try:
                stored = self._store_all([prepared for _, prepared in ready])
            except Exception as exc:
                if len(ready) == 1 or commit_unknown(exc):
                    raise  # (lost at COMMIT, the batch may be stored: never store it again)
                # The database refused something the checks did not foresee, and the
                # whole batch rolled back: store each alone so only that one fails.
                stored = []
                for _, prepared in ready:
                    try:
                        stored += self._store_all([prepared])
                    except Exception as exc:  # noqa: BLE001 - that one post's answer
                        stored.append(exc)
            for (index, _), result in zip(ready, stored, strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    def _prepare(self, new: NewComment, ctx: RequestContext) -> Prepared:
        """Everything before the write: validation, moderation, rendering."""
        site = self.sites.resolve(new.site, ctx.origin)
        self.sites.check_origin(site, ctx.origin)
        site_settings = self.sites.settings_of(site.id)
        try:
            key = thread_key(new.thread)
        except ThreadKeyError as exc:
            raise InvalidInput(f"thread: {exc}") from None
        text = self._check_text(new.text, site_settings)
        account_id = ctx.account_id
        reader = self.accounts.reader(site.id, ctx.sso, ctx.session)
        if reader is not None:
            # Signed in: the account's name and address, not the form's.
            account_id = reader.id
            name = _clean_line(reader.name, "name", self.settings.max_name_length)
            email, website = reader.email, _check_website(reader.website)
        else:
            name = _clean_line(new.name, "name", self.settings.max_name_length)
            email = _check_email(new.email)
            website = _check_website(new.website)
        if name is None and site_settings.require_name:
            raise InvalidInput("name: required on this site")
        title = _clean_line(new.title, "title", MAX_TITLE)
        url = None
        if new.url:
            try:
                url = normalise_url(new.url)[:MAX_URL]
            except ThreadKeyError:
                raise InvalidInput("url: must be an http or https address") from None
            if site.origins and origin_of(url) not in site.origins:
                raise InvalidInput("url: not on one of this site's origins")
        elif new.thread.lower().startswith(("http://", "https://")):
            url = normalise_url(new.thread)
            # The thread's URL goes out in emails, feeds and webhooks: only the site's own
            # pages may set it.
            if site.origins and origin_of(url) not in site.origins:
                raise InvalidInput("thread: not a page on one of this site's origins")
        anchor = self._parse_anchor(new.anchor)

        voter_id = self.tokens.voter_id(ctx.voter_token)
        voter_token = None
        if voter_id is None:
            voter_id, voter_token = self.tokens.new_voter()
        ip_hash = self.ip_hash(ctx.ip)
        now = datetime.now(UTC)

        thread = None
        if new.parent_id is not None:
            # A bad parent is refused before moderation spends time on the text; the
            # write below checks everything again inside its transaction.
            with self.db.read() as conn:
                thread = queries.find_thread(conn, site.id, key)
                self._check_parent(queries.comment_row(conn, new.parent_id), thread,
                                   site_settings, (account_id, voter_id))
            if thread is not None and thread.closed:
                raise Forbidden("this discussion is closed", code="thread_closed")

        decision = self.moderator.decide(
            Draft(
                site_id=site.id, thread_id=thread.id if thread else None, thread_key=key,
                parent_id=new.parent_id, text=text, author_name=name, author_email=email,
                author_website=website, ip_hash=ip_hash, voter_id=voter_id,
                account_id=account_id, created_at=now, extras=dict(ctx.extras), ip=ctx.ip,
            )
        )
        if decision.action is Action.REFUSE:
            raise CommentRefused(
                decision.message or "this comment cannot be published",
                reasons=[r.code for r in decision.reasons],
            )
        state = {
            Action.PUBLISH: CommentState.APPROVED,
            Action.HOLD: CommentState.PENDING,
            Action.SPAM: CommentState.SPAM,
        }[decision.action]
        return Prepared(
            new=new, ctx=ctx, site=site, site_settings=site_settings, key=key, text=text,
            html=markup.render(text, images=site_settings.allow_images), name=name,
            email=email, website=website, title=title, url=url, anchor=anchor,
            account_id=account_id, voter_id=voter_id, voter_token=voter_token,
            ip_hash=ip_hash, now=now, decision=decision, state=state,
        )

    @staticmethod
    def _by_staff(conn: Connection, site_id: str, account_id: int | None) -> bool:
        """Whether a comment of this account carries the "Staff" badge."""
        return account_id is not None and account_id in queries.staff_accounts(
            conn, site_id, [account_id])

    def _parse_anchor(self, data: dict[str, Any] | None) -> dict[str, Any] | None:
        if data is None:
            return None
        try:
            from rostra.core.anchors import anchor_to_json, parse_anchor
        except ImportError:  # pragma: no cover - inline feedback module not installed
            raise InvalidInput("anchor: inline feedback is not available") from None
        return anchor_to_json(parse_anchor(data))

    def change_state(
        self, conn: Connection, row: Row[Any], new_state: CommentState, *, actor: str | None,
        erase: bool = False, locked: bool = False,
    ) -> CommentEvent:
        """Move a comment to ``new_state`` inside the caller's transaction, keeping thread
        and parent counters right. ``erase`` drops the author's text and details. The
        counters follow the comment as it is once locked, not ``row`` (read before);
        ``locked``: the caller read ``row`` with ``queries.locked_comment`` already."""
        if not locked:
            row = queries.locked_comment(conn, row)
        old_state = CommentState(row.state)
        values: dict[str, Any] = {"state": new_state.value}
        if erase:
            values.update(
                text="", html="", author_name=None, author_email=None, author_website=None,
                anchor=None,
            )
        # Rows in the order a posting batch locks them (its parents' counts, which have
        # lower ids than their replies, then the threads), so that on PostgreSQL the two
        # never wait for each other in a circle: the parent, this comment, its thread.
        was = queries.is_visible(old_state.value, row.reply_count)
        now_visible = queries.is_visible(new_state.value, row.reply_count)
        if was != now_visible and row.parent_id is not None:
            self._adjust_reply_count(conn, row.parent_id, 1 if now_visible else -1)
        conn.execute(update(comments).where(comments.c.id == row.id).values(**values))
        delta = int(new_state is CommentState.APPROVED) - int(old_state is CommentState.APPROVED)
        queries.bump_thread(
            conn, row.thread_id, datetime.now(UTC),
            comment_count=delta, top_level_count=delta if row.parent_id is None else 0,
        )
        thread = queries.thread_by_id(conn, row.thread_id)
        assert thread is not None
        if new_state is CommentState.APPROVED and old_state is not CommentState.APPROVED:
            _take_offer(conn, row, thread)
            # Readers see it for the first time (or again): open pages get it as a new one.
            changes.record_published(conn, row.thread_id, row.id)
        elif old_state is CommentState.APPROVED and new_state is not CommentState.APPROVED:
            changes.record_removed(conn, row.thread_id, row.id)
        event = CommentEvent(
            EventKind.STATE_CHANGED, row.id, row.thread_id, thread.site_id, thread.key,
            row.parent_id, old_state, new_state, actor,
        )
        self._emit(conn, event)
        return event

    def set_state(
        self, comment_id: int, new_state: CommentState, *, actor: str | None = None
    ) -> dict[str, Any]:
        """A moderator's decision: approve, reject, mark spam or delete (kept as tombstone)."""
        for attempt in attempts("a moderator's decision"):
            with attempt, self.db.write() as conn:
                row = queries.comment_row(conn, comment_id)
                if row is None:
                    raise NotFound(f"no comment with id {comment_id}")
                row = queries.locked_comment(conn, row)
                event = None
                if row.state != new_state.value:
                    event = self.change_state(conn, row, new_state, actor=actor,
                                              locked=True)
                row = queries.comment_row(conn, comment_id)
        if event is not None:
            self._notify([event])
        assert row is not None
        return comment_json(row, reveal_pending=True)

    def edit(self, comment_id: int, text: str, ctx: RequestContext) -> dict[str, Any]:
        """The author changes their comment within the edit window."""
        row = self._load(comment_id)
        site_settings = self._editable(row, ctx)
        text = self._check_text(text, site_settings)
        thread = self._thread_of(row)
        decision = self.moderator.decide(
            Draft(
                site_id=thread.site_id, thread_id=row.thread_id, thread_key=thread.key,
                parent_id=row.parent_id, text=text, author_name=row.author_name,
                author_email=row.author_email, author_website=row.author_website,
                ip_hash=row.ip_hash, voter_id=row.voter_id, account_id=row.account_id,
                created_at=row.created_at, extras={**ctx.extras, "edit": True}, ip=ctx.ip,
            )
        )
        if decision.action is Action.REFUSE:
            raise CommentRefused(decision.message or "this text cannot be published")
        now = datetime.now(UTC)
        for attempt in attempts("an author's edit"):
            with attempt, self.db.write() as conn:
                events = []
                current = queries.comment_row(conn, comment_id)
                assert current is not None
                held = decision.action is not Action.PUBLISH and current.state == "approved"
                if held:
                    # Before the text: the parent's count, then this comment, as a
                    # posting batch takes them (rostra.services.comments.change_state).
                    target = (CommentState.SPAM if decision.action is Action.SPAM
                              else CommentState.PENDING)
                    events.append(self.change_state(conn, current, target, actor=None))
                conn.execute(
                    update(comments)
                    .where(comments.c.id == comment_id)
                    .values(
                        text=text,
                        html=markup.render(text, images=site_settings.allow_images),
                        edited_at=now,
                        moderation=_shown_as_before(
                            _with_offer(decision.to_json(), current), current),
                    )
                )
                if not held:
                    if current.state == CommentState.APPROVED.value:
                        # Only an edit readers see changes the thread: a held comment's
                        # (a shadow-banned author's among them) must not send every open
                        # page a bare "changed".
                        queries.bump_thread(conn, row.thread_id, now)
                        changes.record_edited(conn, row.thread_id, row.id)  # open pages show it
                    event = CommentEvent(
                        EventKind.EDITED, row.id, row.thread_id, thread.site_id, thread.key,
                        row.parent_id, CommentState(current.state), CommentState(current.state),
                    )
                    self._emit(conn, event)
                    events.append(event)
                current = queries.comment_row(conn, comment_id)
                assert current is not None
                staff = self._by_staff(conn, thread.site_id, current.account_id)
        self._notify(events)
        # As get() shows it to its author: spam reads as held, never as "[deleted]".
        return comment_json(current, to_author=True, staff=staff)

    def delete(self, comment_id: int, ctx: RequestContext) -> dict[str, Any] | None:
        """The author deletes their comment; with replies it stays as a tombstone."""
        row = self._load(comment_id)
        self._editable(row, ctx)
        for attempt in attempts("an author's deletion"):
            with attempt, self.db.write() as conn:
                current = queries.comment_row(conn, comment_id)
                assert current is not None
                event = self.change_state(conn, current, CommentState.DELETED, actor=None, erase=True)
                current = queries.comment_row(conn, comment_id)
        self._notify([event])
        assert current is not None
        if current.reply_count > 0:
            return comment_json(current)
        return None

    def get(self, comment_id: int, ctx: RequestContext) -> dict[str, Any]:
        """One comment with its thread; a held comment only for its author."""
        with self.db.read() as conn:
            row = queries.comment_row(conn, comment_id)
            thread = queries.thread_by_id(conn, row.thread_id) if row is not None else None
            staff = row is not None and thread is not None and self._by_staff(
                conn, thread.site_id, row.account_id)
        if row is None or thread is None:
            raise NotFound(f"no comment with id {comment_id}")
        is_author = self.tokens.proves_author(ctx.edit_token, comment_id)
        visible = queries.is_visible(row.state, row.reply_count)
        held = (CommentState.PENDING.value, CommentState.SPAM.value)
        if not visible and not (is_author and row.state in held):
            raise NotFound(f"no comment with id {comment_id}")
        return {
            "comment": comment_json(row, to_author=is_author, staff=staff),
            "thread": thread_json(thread),
            "site": thread.site_id,
            "root_id": row.root_id or row.id,
            # (none for a comment its shadow-banned author is shown published)
            "moderation_message": (row.moderation or {}).get("message")
            if is_author and not shadow_published(row.moderation) else None,
        }

    def preview(self, text: str, site_id: str | None, origin: str | None) -> str:
        images = False
        if site_id or origin:
            try:
                site = self.sites.resolve(site_id, origin)
                images = self.sites.settings_of(site.id).allow_images
            except RostraError:
                images = False
        if not isinstance(text, str):
            raise InvalidInput("text: must be a string")
        if len(text) > self.settings.max_comment_length:
            raise InvalidInput(
                f"text: at most {self.settings.max_comment_length} characters", code="too_long"
            )
        return markup.render(text, images=images)


__all__ = [
    "CommentEvent", "CommentRefused", "CommentService", "EventKind", "NewComment", "Posted",
    "RequestContext", "iso",
]
