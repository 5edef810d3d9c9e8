"""What staff do from the queue: decisions, edits kept as revisions, featuring and
pinning, bans; each recorded in the audit log, and each reversible by ``undo``.

Decisions and bans go through the moderation engine's ModerationService, so that its
counters, flag resolution and learning stay right. Every action returns an ``Undo``
record (plain JSON kept in the staff session) that ``undo`` reverses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, insert, select, update

from rostra.core import markup
from rostra.core.errors import Conflict, InvalidInput, NotFound
from rostra.core.models import CommentState, is_erased
from rostra.services.comments import CommentEvent, EventKind
from rostra.services.container import Services
from rostra.services.moderation import (
    TARGET_STATE,
    BanKind,
    BanRequest,
    ModerationService,
    StaffAction,
    decided_since,
    erased_conflict,
    record_audit,
)
from rostra.store import changes, queries
from rostra.store.db import attempts
from rostra.store.staff_tables import comment_pins, comment_revisions
from rostra.store.tables import comments

Undo = dict[str, Any]


class Kept(StrEnum):
    """Why an undo left a comment as it is."""

    CHANGED = "changed"  # decided again since, or gone
    ERASED = "erased"  # erased on its author's request


class PinKind(StrEnum):
    FEATURED = "featured"
    PINNED = "pinned"


class Workspace:
    """The queue's actions for one running app."""

    def __init__(self, services: Services, moderation: ModerationService) -> None:
        self.services = services
        self.moderation = moderation
        self.db = services.db

    # -- decisions -----------------------------------------------------------

    def decide(self, comment_ids: list[int], action: StaffAction, *, actor: str,
               reason: str | None = None, seen: dict[int, str] | None = None) -> Undo:
        """Approve, reject, mark spam or delete each comment; returns how to undo it.
        Refused before any is decided when one was erased on request (only delete is not),
        or was moved since from the state the moderator saw it in (``seen``, by id: another
        moderator decided it meanwhile)."""
        done = []
        seen = seen or {}
        with self.db.read() as conn:
            rows = {i: queries.comment_row(conn, i) for i in comment_ids}
            for comment_id, row in rows.items():
                if row is None:
                    raise NotFound(f"no comment with id {comment_id}")
                if action is not StaffAction.DELETE and is_erased(row.moderation):
                    raise erased_conflict(comment_id)
                if seen.get(comment_id, row.state) != row.state:
                    raise decided_since(conn, comment_id, row.state)
        for comment_id in comment_ids:
            row = rows[comment_id]
            assert row is not None
            self.moderation.decide(comment_id, action, actor=actor, reason=reason,
                                   seen=seen.get(comment_id))
            done.append({"id": comment_id, "before": row.state,
                         "after": TARGET_STATE[action].value})
        return {"kind": "state", "action": action.value, "items": done}

    def _restore_state(self, comment_id: int, state: str, after: str | None,
                       actor: str) -> Kept | None:
        """Put the comment back in ``state`` unless another decision moved it from
        ``after`` (the state the undone action left) since: undo takes back this
        moderator's decision, never a later one; nor does it bring back a comment erased
        on its author's request. Why it was left as it is, or None when it was put back."""
        events: list[CommentEvent] = []
        for attempt in attempts("undoing a decision"):
            with attempt, self.db.write() as conn:
                events = []
                row = queries.comment_row(conn, comment_id)
                if row is None:
                    return Kept.CHANGED  # gone since; nothing to restore
                row = queries.locked_comment(conn, row)
                if is_erased(row.moderation) and state != CommentState.DELETED.value:
                    return Kept.ERASED
                if after is not None and row.state != after:
                    return Kept.CHANGED
                thread = queries.thread_by_id(conn, row.thread_id)
                assert thread is not None
                if row.state != state:
                    events.append(self.services.comments.change_state(
                        conn, row, CommentState(state), actor=actor, locked=True))
                record_audit(conn, actor, "undo", f"comment:{comment_id}", {"state": row.state},
                             {"state": state}, None, site_id=thread.site_id)
        self.services.comments._notify(events)
        return None

    # -- edits ---------------------------------------------------------------

    def edit(self, comment_id: int, text: str, *, actor: str, reason: str | None = None) -> Undo:
        """Replace a comment's text; the old text is kept as a revision."""
        text = (text or "").replace("\r\n", "\n").strip()
        if not text:
            raise InvalidInput("text: must not be empty")
        if len(text) > self.services.settings.max_comment_length:
            raise InvalidInput(f"text: at most {self.services.settings.max_comment_length} "
                               "characters", code="too_long")
        revision = self._replace_text(comment_id, text, actor=actor, action="edit",
                                      reason=reason)
        return {"kind": "edit", "id": comment_id, "revision": revision}

    def _replace_text(self, comment_id: int, text: str, *, actor: str, action: str,
                      reason: str | None, unless_edited_since: datetime | None = None) -> int:
        comments_service = self.services.comments
        # Runs again after a deadlock or a connection lost before its COMMIT (not after
        # one lost at COMMIT: it would keep a second revision and audit it twice); so do
        # pinning and its undo.
        for attempt in attempts("a moderator's edit"):
            with attempt, self.db.write() as conn:
                row = queries.comment_row(conn, comment_id)
                if row is None:
                    raise NotFound(f"no comment with id {comment_id}")
                row = queries.locked_comment(conn, row)
                if is_erased(row.moderation):
                    raise erased_conflict(comment_id)
                if unless_edited_since is not None and row.edited_at != unless_edited_since:
                    raise Conflict(f"comment {comment_id} was edited again since; its text "
                                   "is left as it is", code="changed_since")
                thread = queries.thread_by_id(conn, row.thread_id)
                assert thread is not None
                images = self.services.sites.settings_of(thread.site_id).allow_images
                now = datetime.now(UTC)
                revision = conn.execute(insert(comment_revisions).values(
                    comment_id=comment_id, text=row.text, html=row.html, edited_by=actor,
                    created_at=now).returning(comment_revisions.c.id)).scalar_one()
                conn.execute(update(comments).where(comments.c.id == comment_id).values(
                    text=text, html=markup.render(text, images=images), edited_at=now))
                queries.bump_thread(conn, row.thread_id, now)
                if row.state == CommentState.APPROVED.value:
                    changes.record_edited(conn, row.thread_id, row.id)  # open pages show it
                event = CommentEvent(EventKind.EDITED, row.id, row.thread_id, thread.site_id,
                                     thread.key, row.parent_id, CommentState(row.state),
                                     CommentState(row.state), actor)
                comments_service._emit(conn, event)
                record_audit(conn, actor, action, f"comment:{comment_id}", {"text": row.text},
                             {"text": text}, reason, site_id=thread.site_id)
        comments_service._notify([event])
        return int(revision)

    def _restore_revision(self, comment_id: int, revision_id: int, actor: str) -> None:
        """Put back the text an edit replaced, unless the comment was edited since
        (by staff or its author): Conflict then, and the later text stays."""
        with self.db.read() as conn:
            old = conn.execute(select(comment_revisions.c.text, comment_revisions.c.created_at)
                               .where(comment_revisions.c.id == revision_id,
                                      comment_revisions.c.comment_id == comment_id)).first()
            row = queries.comment_row(conn, comment_id) if old is None else None
        if old is None:
            if row is not None and is_erased(row.moderation):
                raise erased_conflict(comment_id)  # its revisions went with the erasure
            return
        # The edit wrote its revision and the comment's edited_at at one moment: a later
        # edit moved edited_at (checked in the transaction that puts the text back).
        self._replace_text(comment_id, old.text, actor=actor, action="undo", reason=None,
                           unless_edited_since=old.created_at)

    # -- featuring and pinning -----------------------------------------------

    def pin(self, comment_id: int, kind: PinKind | None, *, actor: str) -> Undo:
        """Feature or pin a comment (None: neither); returns how to undo it."""
        site_id = self.moderation.site_of_comment(comment_id)
        for attempt in attempts("pinning a comment"):
            with attempt, self.db.write() as conn:
                before = conn.scalar(select(comment_pins.c.kind)
                                     .where(comment_pins.c.comment_id == comment_id))
                self._set_pin(conn, comment_id, site_id, kind.value if kind else None, actor)
                record_audit(conn, actor, kind.value if kind else "unpin", f"comment:{comment_id}",
                             {"pin": before}, {"pin": kind.value if kind else None}, None,
                             site_id=site_id)
        return {"kind": "pin", "id": comment_id, "before": before,
                "after": kind.value if kind else None}

    def _set_pin(self, conn: Any, comment_id: int, site_id: str, kind: str | None,
                 actor: str) -> None:
        row = queries.comment_row(conn, comment_id)
        if row is not None:  # readers' cached pages of the thread must change too
            queries.bump_thread(conn, row.thread_id, datetime.now(UTC))
            changes.record_pin(conn, row.thread_id, comment_id, kind)  # and open pages
        conn.execute(delete(comment_pins).where(comment_pins.c.comment_id == comment_id))
        if kind is not None:
            conn.execute(insert(comment_pins).values(
                comment_id=comment_id, site_id=site_id, kind=kind, created_by=actor,
                created_at=datetime.now(UTC)))

    def _restore_pin(self, comment_id: int, before: str | None, undo: Undo,
                     actor: str) -> None:
        """Feature or pin the comment as it was, unless it was featured, pinned or
        unpinned again since (Conflict: the later choice stays)."""
        site_id = self.moderation.site_of_comment(comment_id)
        for attempt in attempts("undoing a pin"):
            with attempt, self.db.write() as conn:
                row = queries.comment_row(conn, comment_id)
                if row is not None:
                    queries.locked_comment(conn, row)  # pins of one comment, one at a time
                now = conn.scalar(select(comment_pins.c.kind)
                                  .where(comment_pins.c.comment_id == comment_id))
                if "after" in undo and now != undo["after"]:
                    raise Conflict(f"comment {comment_id} was featured or pinned again "
                                   "since; it is left as it is", code="changed_since")
                self._set_pin(conn, comment_id, site_id, before, actor)
                record_audit(conn, actor, "undo", f"comment:{comment_id}", {"pin": now},
                             {"pin": before}, None, site_id=site_id)

    # -- bans ----------------------------------------------------------------

    def ban(self, comment_id: int, kind: BanKind, *, actor: str, shadow: bool,
            duration_seconds: int | None, reason: str | None, wide: bool = False) -> Undo:
        """Ban (or shadow-ban) the author of a comment on its site."""
        site_id = self.moderation.site_of_comment(comment_id)
        ban = self.moderation.ban(
            BanRequest(site_id=site_id, kind=kind, comment_id=comment_id, wide=wide,
                       duration_seconds=duration_seconds, reason=reason, shadow=shadow),
            actor=actor,
        )
        return {"kind": "ban", "ban": ban["id"], "site": site_id, "label": ban["label"]}

    # -- undo ----------------------------------------------------------------

    def undo(self, last: Undo, *, actor: str) -> str:
        """Reverse the last action; returns what was undone, in words."""
        kind = last.get("kind")
        if kind == "state":
            items = last["items"]
            kept = [why for why in (
                self._restore_state(int(item["id"]), str(item["before"]),
                                    item.get("after"), actor)
                for item in reversed(items)) if why is not None]
            changed, erased = kept.count(Kept.CHANGED), kept.count(Kept.ERASED)
            if kept and len(kept) == len(items):
                if erased:
                    raise Conflict(
                        "the comments of the last action were erased on their authors' "
                        "request" + (" or decided again since" if changed else "")
                        + "; they are left as they are", code="erased")
                raise Conflict("every comment of the last action was decided again since; "
                               "they are left as they are", code="changed_since")
            n = len(items) - len(kept)
            said = f"{last['action']} of {n} comment{'s' if n != 1 else ''}"
            if changed:
                said += f" ({changed} decided again since, left as decided)"
            if erased:
                whose = "its author's" if erased == 1 else "their authors'"
                said += f" ({erased} erased on {whose} request, left deleted)"
            return said
        if kind == "edit":
            self._restore_revision(int(last["id"]), int(last["revision"]), actor)
            return f"edit of comment {last['id']}"
        if kind == "pin":
            self._restore_pin(int(last["id"]), last.get("before"), last, actor)
            return f"featuring of comment {last['id']}"
        if kind == "ban":
            self.moderation.unban(int(last["ban"]), actor=actor, reason="undo")
            return f"ban of {last.get('label') or 'an author'}"
        raise InvalidInput("nothing to undo")


STATE_ACTIONS = {a.value: a for a in StaffAction}


def duration_of(value: str) -> int | None:
    """A ban duration from the form ("1h", "1d", "7d", "30d", "" = until lifted)."""
    table = {"": None, "forever": None, "1h": 3600, "1d": 86400, "7d": 7 * 86400,
             "30d": 30 * 86400, "365d": 365 * 86400}
    if value not in table:
        raise InvalidInput("duration: one of 1h, 1d, 7d, 30d, 365d or forever")
    return table[value]
