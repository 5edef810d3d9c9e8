"""Context notes: sourced notes under a comment, shown to every reader beneath it.

Staff write notes that are published at once, and may publish or withdraw any note.
Signed-in readers propose notes and rate others' proposed notes helpful or not. A
proposed note is shown only when readers who usually disagree with each other rated it
helpful (rostra.core.bridging). A change to what a thread shows marks the thread
changed, so cached pages and open pages follow.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from rostra.core import markup
from rostra.core.bridging import Rating, score_notes
from rostra.core.errors import Forbidden, InvalidInput, NotFound, TooManyRequests, Unauthorized
from rostra.core.models import CommentState
from rostra.core.thread_keys import ThreadKeyError, normalise_url
from rostra.services.comments import CommentEvent, CommentService, EventKind, RequestContext
from rostra.services.moderation import record_audit
from rostra.services.serialise import iso
from rostra.services.serialise import note_json as public_note_json
from rostra.store import changes, queries
from rostra.store.db import attempts, upsert
from rostra.store.notes_tables import comment_notes, note_ratings
from rostra.store.tables import comments

MAX_TEXT = 2000
MAX_SOURCES = 5
PROPOSALS_PER_DAY = 10  # per reader and site: proposing is for context, not for arguing


class NoteStatus(StrEnum):
    PROPOSED = "proposed"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class NoteDraft:
    text: str
    sources: list[str]


def clean_sources(sources: list[str]) -> list[str]:
    """The sources as readers may follow them: http(s) addresses, each once."""
    if len(sources) > MAX_SOURCES:
        raise InvalidInput(f"sources: at most {MAX_SOURCES}", field="sources")
    out: list[str] = []
    for source in sources:
        if not isinstance(source, str) or not source.strip().lower().startswith(
                ("http://", "https://")):
            raise InvalidInput("sources: each one an http(s) address", field="sources")
        try:
            url = normalise_url(source)
        except ThreadKeyError as exc:
            raise InvalidInput(f"sources: {exc}", field="sources") from None
        if url not in out:
            out.append(url)
    return out


def note_json(row: Any, *, reader_rating: bool | None = None,
              for_staff: bool = False) -> dict[str, Any]:
    """A note as readers see it (staff also see its status, score and author)."""
    out: dict[str, Any] = {**public_note_json(row), "comment_id": row.comment_id}
    if reader_rating is not None or not row.shown:
        out["status"] = row.status
        out["your_rating"] = reader_rating
    if for_staff:
        out.update(status=row.status, shown=bool(row.shown), text=row.text,
                   helpfulness=row.helpfulness, ratings=row.rating_count,
                   staff_author=row.staff_author, account_id=row.account_id,
                   decided_by=row.decided_by, decided_at=iso(row.decided_at))
    return out


class NoteService:
    def __init__(self, comments_service: CommentService) -> None:
        self.comments = comments_service
        self.db = comments_service.db
        self.sites = comments_service.sites

    # -- readers -------------------------------------------------------------

    def _reader(self, site_id: str, ctx: RequestContext) -> int:
        reader = self.comments.accounts.reader(site_id, ctx.sso, ctx.session)
        account_id = reader.id if reader is not None else ctx.account_id
        if account_id is None:
            raise Unauthorized("sign in to propose or rate context notes",
                               code="sign_in_required")
        return int(account_id)

    def _public_comment(self, comment_id: int, ctx: RequestContext) -> tuple[Any, str]:
        row = self.comments._load(comment_id)
        if row.state != CommentState.APPROVED.value:
            raise NotFound(f"no comment with id {comment_id}")
        thread = self.comments._thread_of(row)
        site = self.sites.get(thread.site_id)
        self.sites.check_origin(site, ctx.origin)
        return row, site.id

    def list_for_reader(self, comment_id: int, ctx: RequestContext) -> dict[str, Any]:
        """The notes shown under a comment; a signed-in reader also gets the proposed
        ones waiting for ratings, with their own rating of each."""
        _, site_id = self._public_comment(comment_id, ctx)
        reader = self.comments.accounts.reader(site_id, ctx.sso, ctx.session)
        account_id = reader.id if reader is not None else ctx.account_id
        with self.db.read() as conn:
            rows = conn.execute(select(comment_notes).where(
                comment_notes.c.comment_id == comment_id,
                comment_notes.c.status != NoteStatus.WITHDRAWN.value,
            ).order_by(comment_notes.c.id)).all()
            mine: dict[int, bool] = {}
            if account_id is not None and rows:
                mine = {r.note_id: bool(r.helpful) for r in conn.execute(
                    select(note_ratings.c.note_id, note_ratings.c.helpful).where(
                        note_ratings.c.account_id == account_id,
                        note_ratings.c.note_id.in_([r.id for r in rows])))}
        shown = [note_json(r) for r in rows if r.shown]
        waiting = [note_json(r, reader_rating=mine.get(r.id)) for r in rows
                   if not r.shown and account_id is not None
                   and r.account_id != account_id]
        return {"notes": shown, "proposed": waiting}

    def propose(self, comment_id: int, draft: NoteDraft, ctx: RequestContext) -> dict[str, Any]:
        """A signed-in reader proposes a note; it waits for ratings."""
        row, site_id = self._public_comment(comment_id, ctx)
        account_id = self._reader(site_id, ctx)
        if account_id == row.account_id:
            raise Forbidden("you cannot add a context note to your own comment",
                            code="note_on_own_comment")
        text, sources = self._checked(draft)
        now = datetime.now(UTC)
        # Runs again after a deadlock or a connection lost before its COMMIT (not after
        # one lost at COMMIT: a second try could add the note twice).
        for attempt in attempts("a reader's context note"):
            with attempt, self.db.write() as conn:
                recent = conn.scalar(select(func.count()).select_from(comment_notes).where(
                    comment_notes.c.site_id == site_id,
                    comment_notes.c.account_id == account_id,
                    comment_notes.c.created_at > now - timedelta(days=1)))
                if int(recent or 0) >= PROPOSALS_PER_DAY:
                    raise TooManyRequests(
                        f"at most {PROPOSALS_PER_DAY} context notes a day; please wait",
                        retry_after=3600)
                note = self._insert(conn, row.id, site_id, text, sources, now, [],
                                    account_id=account_id, status=NoteStatus.PROPOSED)
        return note_json(note, reader_rating=None)

    def rate(self, note_id: int, helpful: bool, ctx: RequestContext) -> dict[str, Any]:
        """A signed-in reader rates a proposed note; the site's notes are scored again."""
        if not isinstance(helpful, bool):
            raise InvalidInput("helpful: true or false", field="helpful")
        note = self._note(note_id)
        if note.status != NoteStatus.PROPOSED.value:
            raise NotFound(f"no proposed note with id {note_id}")
        _, site_id = self._public_comment(note.comment_id, ctx)
        account_id = self._reader(site_id, ctx)
        if account_id == note.account_id:
            raise Forbidden("you cannot rate your own note", code="own_note")
        now = datetime.now(UTC)
        # Rescoring writes every note of the site that changed, so two ratings at once
        # may deadlock; it runs again, even after a COMMIT lost with its connection (a
        # rating given twice is given once, and scoring again changes nothing more).
        for attempt in attempts("a rating of a context note", idempotent=True):
            with attempt, self.db.write() as conn:
                stmt = upsert(conn)(note_ratings).values(
                    note_id=note_id, account_id=account_id, helpful=helpful, created_at=now)
                conn.execute(stmt.on_conflict_do_update(
                    index_elements=[note_ratings.c.note_id, note_ratings.c.account_id],
                    set_={"helpful": helpful, "created_at": now}))
                events: list[CommentEvent] = []
                self._rescore(conn, site_id, now, events)
                note = conn.execute(select(comment_notes).where(
                    comment_notes.c.id == note_id)).one()
        self.comments._notify(events)
        return note_json(note, reader_rating=helpful)

    # -- staff ---------------------------------------------------------------

    def site_of_note(self, note_id: int) -> str:
        return str(self._note(note_id).site_id)

    def site_of_comment(self, comment_id: int) -> str:
        return str(self.comments._thread_of(self.comments._load(comment_id)).site_id)

    def add_by_staff(self, comment_id: int, draft: NoteDraft, *, actor: str) -> dict[str, Any]:
        """A note written by staff: published at once."""
        row = self.comments._load(comment_id)
        thread = self.comments._thread_of(row)
        text, sources = self._checked(draft)
        now = datetime.now(UTC)
        # Runs again after a deadlock or a statement's lost connection (not after a
        # lost COMMIT: the note could be added twice), as does a decision below.
        for attempt in attempts("a staff member's context note"):
            events: list[CommentEvent] = []
            with attempt, self.db.write() as conn:
                note = self._insert(conn, row.id, thread.site_id, text, sources, now, events,
                                    staff_author=actor[:100], status=NoteStatus.PUBLISHED)
                record_audit(conn, actor, "add_note", f"comment:{comment_id}", None,
                             {"note": note.id, "text": text, "sources": sources}, None,
                             site_id=thread.site_id)
        self.comments._notify(events)
        return note_json(note, for_staff=True)

    def decide(self, note_id: int, status: NoteStatus, *, actor: str,
               reason: str | None = None) -> dict[str, Any]:
        """Publish or withdraw any note, whatever its ratings; PROPOSED hands a note back
        to the readers' ratings."""
        now = datetime.now(UTC)
        for attempt in attempts("a decision on a context note"):
            events: list[CommentEvent] = []
            with attempt, self.db.write() as conn:
                note = conn.execute(select(comment_notes).where(
                    comment_notes.c.id == note_id)).first()
                if note is None:
                    raise NotFound(f"no note with id {note_id}")
                conn.execute(update(comment_notes).where(comment_notes.c.id == note_id).values(
                    status=status.value, decided_by=actor[:100], decided_at=now))
                self._set_shown(conn, note_id, status is NoteStatus.PUBLISHED, now, events)
                if status is NoteStatus.PROPOSED:
                    self._rescore(conn, note.site_id, now, events)
                record_audit(conn, actor, f"{status.value}_note" if status is not
                             NoteStatus.PROPOSED else "reopen_note", f"note:{note_id}",
                             {"status": note.status}, {"status": status.value}, reason,
                             site_id=note.site_id)
                note = conn.execute(select(comment_notes).where(
                    comment_notes.c.id == note_id)).one()
        self.comments._notify(events)
        return note_json(note, for_staff=True)

    def list_for_staff(self, site_id: str, *, status: NoteStatus | None = None,
                       comment_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = (select(comment_notes, comments.c.text.label("comment_text"))
                 .join(comments, comments.c.id == comment_notes.c.comment_id)
                 .where(comment_notes.c.site_id == site_id))
        if status is not None:
            query = query.where(comment_notes.c.status == status.value)
        if comment_id is not None:
            query = query.where(comment_notes.c.comment_id == comment_id)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(comment_notes.c.id.desc()).limit(limit)).all()
        return [{**note_json(r, for_staff=True), "comment_text": r.comment_text[:300]}
                for r in rows]

    # -- helpers -------------------------------------------------------------

    def _checked(self, draft: NoteDraft) -> tuple[str, list[str]]:
        text = (draft.text or "").strip()
        if not text:
            raise InvalidInput("text: say what context readers need", field="text")
        if len(text) > MAX_TEXT:
            raise InvalidInput(f"text: at most {MAX_TEXT} characters", field="text")
        return text, clean_sources(list(draft.sources or []))

    def _note(self, note_id: int) -> Any:
        with self.db.read() as conn:
            note = conn.execute(select(comment_notes).where(
                comment_notes.c.id == note_id)).first()
        if note is None:
            raise NotFound(f"no note with id {note_id}")
        return note

    def _insert(self, conn: Connection, comment_id: int, site_id: str, text: str,
                sources: list[str], now: datetime, events: list[CommentEvent], *,
                status: NoteStatus,
                staff_author: str | None = None, account_id: int | None = None) -> Any:
        note_id = conn.execute(insert(comment_notes).values(
            comment_id=comment_id, site_id=site_id, text=text,
            html=markup.render(text), sources=sources, staff_author=staff_author,
            account_id=account_id, status=status.value, shown=False, rating_count=0,
            created_at=now).returning(comment_notes.c.id)).scalar_one()
        if status is NoteStatus.PUBLISHED:
            self._set_shown(conn, note_id, True, now, events)
        return conn.execute(select(comment_notes).where(comment_notes.c.id == note_id)).one()

    def _set_shown(self, conn: Connection, note_id: int, shown: bool, now: datetime,
                   events: list[CommentEvent], only_proposed: bool = False) -> None:
        """Show or hide a note (``only_proposed``: if it is still proposed). A change marks
        its thread changed: other processes hear of it, and the event (sent after the
        commit) drops this process's cached pages."""
        where = [comment_notes.c.id == note_id, comment_notes.c.shown != shown]
        if only_proposed:
            where.append(comment_notes.c.status == NoteStatus.PROPOSED.value)
        changed = conn.execute(update(comment_notes).where(*where).values(shown=shown)
                               .returning(comment_notes.c.comment_id)).first()
        if changed is None:
            return
        row = queries.comment_row(conn, changed.comment_id)
        thread = queries.thread_by_id(conn, row.thread_id) if row is not None else None
        if row is None or thread is None:
            return
        queries.bump_thread(conn, thread.id, now)
        state = CommentState(row.state)
        if state is CommentState.APPROVED:
            # Open pages get the comment with its notes as they now stand (as an edit).
            changes.record_edited(conn, thread.id, row.id)
        events.append(CommentEvent(EventKind.EDITED, row.id, thread.id, thread.site_id,
                                   thread.key, row.parent_id, state, state, "note"))

    def _rescore(self, conn: Connection, site_id: str, now: datetime,
                 events: list[CommentEvent]) -> None:
        """Fit the bridging score on every rating of the site's proposed notes and show
        exactly the proposed notes that reach it."""
        proposed = (comment_notes.c.site_id == site_id,
                    comment_notes.c.status == NoteStatus.PROPOSED.value)
        rows = conn.execute(
            select(note_ratings.c.note_id, note_ratings.c.account_id, note_ratings.c.helpful)
            .join(comment_notes, comment_notes.c.id == note_ratings.c.note_id)
            .where(*proposed)).all()
        scores = score_notes([Rating(r.note_id, r.account_id, bool(r.helpful)) for r in rows])
        stored = {r.id: r for r in conn.execute(select(
            comment_notes.c.id, comment_notes.c.helpfulness, comment_notes.c.rating_count,
            comment_notes.c.shown).where(*proposed))}
        for note_id, score in sorted(scores.items(), key=lambda item: _int(item[0])):
            # Only notes whose score moved are written (a rating refits the whole site),
            # in the order of their ids: two ratings at once lock them in one order.
            # Each write is to a note still proposed: a moderator may have published or
            # withdrawn it since it was read (PostgreSQL checks the condition again on
            # the row as that decision left it), and the ratings no longer decide it.
            before = stored[_int(note_id)]
            helpfulness = round(score.helpfulness, 4)
            if (before.helpfulness, before.rating_count) != (helpfulness, score.ratings):
                conn.execute(update(comment_notes).where(comment_notes.c.id == note_id,
                                                         *proposed)
                             .values(helpfulness=helpfulness, rating_count=score.ratings))
            if bool(before.shown) != score.shown:
                self._set_shown(conn, _int(note_id), score.shown, now, events,
                                only_proposed=True)


def _int(value: Hashable) -> int:
    assert isinstance(value, int)
    return value

