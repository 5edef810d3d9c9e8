"""EU Digital Services Act notice and action: notices of illegal content (Art. 16),
statements of reasons (Art. 17) and one appeal each (Art. 20); the transparency
figures (Art. 15 and 24) are ``rostra.services.dsa_transparency``.

A statement of reasons is written whenever a comment is removed or its visibility
restricted, whoever or whatever decided: ``statement_hook`` runs inside every state
change's transaction. Callers that know more (a moderator's reason, the notice that led
to the decision) say so with ``deciding(...)`` around the change.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from rostra.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from rostra.core.models import CommentState
from rostra.moderation.policy import DsaPolicy
from rostra.notify import outbox
from rostra.notify.alerts import comment_flagged
from rostra.notify.model import Channel, MessageKind
from rostra.services.comment_values import READERS
from rostra.services.comments import (
    CommentEvent,
    CommentService,
    EventKind,
    RequestContext,
    _check_email,
    _clean_line,
)
from rostra.services.dsa_context import (
    RESTRICTIONS,
    Deciding,
    Source,
    current,
    deciding,
)
from rostra.services.dsa_transparency import report
from rostra.services.moderation import ModerationService, StaffAction, record_audit
from rostra.services.serialise import iso
from rostra.store import queries
from rostra.store.db import attempts
from rostra.store.dsa_tables import dsa_notices, dsa_statements
from rostra.store.tables import comments, threads

MIN_TEXT, MAX_TEXT = 10, 5000
APPEAL_MONTHS = 6  # Art. 20(1): complaints for at least six months after the decision


class NoticeOutcome(StrEnum):
    ILLEGAL = "illegal"  # removed: illegal on the notice's ground
    INCOMPATIBLE = "incompatible"  # removed: not shown illegal, but against the site's rules
    NO_ACTION = "no_action"
    # Nothing left to decide: the comment was deleted (by its author, on their request
    # for erasure, by a moderator) before the notice was decided.
    UNAVAILABLE = "unavailable"


class AppealOutcome(StrEnum):
    UPHELD = "upheld"  # the decision stands
    REVERSED = "reversed"  # the comment is published again


def _text(value: str | None, name: str) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) < MIN_TEXT:
        raise InvalidInput(f"{name}: at least {MIN_TEXT} characters, please say why")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{name}: at most {MAX_TEXT} characters", code="too_long")
    if "\x00" in text:
        raise InvalidInput(f"{name}: contains a NUL character")
    return text


def appeal_until(decided_at: datetime) -> datetime:
    """The end of the time to appeal a decision taken at ``decided_at``: the same day
    and hour six calendar months later (the month's last day where it has no such day)."""
    month = decided_at.month - 1 + APPEAL_MONTHS
    year, month = decided_at.year + month // 12, month % 12 + 1
    day = min(decided_at.day, calendar.monthrange(year, month)[1])
    return decided_at.replace(year=year, month=month, day=day)


def _latest_statement(conn: Connection, comment_id: int | None) -> int | None:
    """The id of the newest statement about a comment: the decision in force (an older
    one was replaced by it, and is neither appealed nor reversed any more)."""
    if comment_id is None:
        return None
    found = conn.scalar(select(func.max(dsa_statements.c.id)).where(
        dsa_statements.c.comment_id == comment_id))
    return int(found) if found is not None else None


def _held_by_checks(conn: Connection, comment_id: int) -> bool:
    """Whether the decision in force on a comment is the automated checks' (held or
    filed as spam at posting or editing, not published since)."""
    latest = conn.execute(select(dsa_statements.c.source, dsa_statements.c.lifted_at)
                          .where(dsa_statements.c.comment_id == comment_id)
                          .order_by(dsa_statements.c.id.desc()).limit(1)).first()
    return (latest is not None and latest.source == Source.AUTOMATED.value
            and latest.lifted_at is None)


def fitting_outcomes(comment_state: str | None) -> list[str]:
    """The outcomes a notice on a comment in this state may be decided with. A deleted
    (or vanished) comment: only "unavailable". One that is not published (held,
    rejected, spam): "illegal" or "incompatible", not "no action", which tells the
    notifier that the comment stays for all to read (publish it first to say so)."""
    if comment_state is None or comment_state == CommentState.DELETED.value:
        return [NoticeOutcome.UNAVAILABLE.value]
    fitting = [NoticeOutcome.ILLEGAL.value, NoticeOutcome.INCOMPATIBLE.value]
    if comment_state == CommentState.APPROVED.value:
        fitting.append(NoticeOutcome.NO_ACTION.value)
    return fitting


def _removed_already(conn: Connection, comment_id: int) -> bool:
    """Whether a comment is removed already (rejected, spam or deleted), read locked as
    the decision on it would."""
    row = queries.comment_row(conn, comment_id)
    if row is None:
        return False
    state = queries.locked_comment(conn, row).state
    return RESTRICTIONS.get(CommentState(state)) == "removal"


def _reader_key(comments_service: CommentService, site_id: str,
                ctx: RequestContext) -> tuple[str, str | None]:
    ip_hash = comments_service.ip_hash(ctx.ip)
    voter_id = comments_service.tokens.voter_id(ctx.voter_token)
    # A signed-in reader reports as their account, from whatever browser (as they flag).
    signed_in = comments_service.accounts.reader(site_id, ctx.sso, ctx.session)
    account_id = signed_in.id if signed_in is not None else ctx.account_id
    if account_id is not None:
        return f"a:{account_id}", ip_hash
    if voter_id:
        return f"v:{voter_id}", ip_hash
    if ip_hash:
        return f"i:{ip_hash}", ip_hash
    raise InvalidInput("notices need a reader: send the X-Rostra-Voter header")


class DsaService:
    """The door for notices, statements of reasons and appeals."""

    def __init__(self, moderation: ModerationService,
                 policy_for: Callable[[str], DsaPolicy]) -> None:
        self.moderation = moderation
        self.comments = moderation.comments
        self.db = moderation.db
        self.sites = moderation.sites
        self.tokens = moderation.tokens
        self.policy_for = policy_for

    # -- statements of reasons ------------------------------------------------

    def statement_hook(self, conn: Connection, event: CommentEvent) -> None:
        """A tx hook: write the statement of reasons for a removal or restriction, and
        note when a restriction ends (the comment is published again)."""
        if event.kind is EventKind.EDITED:
            return
        if event.new_state is CommentState.APPROVED:
            if event.old_state in RESTRICTIONS:
                conn.execute(update(dsa_statements).where(
                    dsa_statements.c.comment_id == event.comment_id,
                    dsa_statements.c.lifted_at.is_(None)).values(lifted_at=datetime.now(UTC)))
            return
        restriction = RESTRICTIONS.get(event.new_state)
        if restriction is None:
            return
        context = current()
        if context is not None and context.quiet:
            return
        if event.new_state is CommentState.DELETED and context is None:
            return  # the author's own deletion, or an erasure on their request
        row = event.row if event.row is not None else queries.comment_row(
            conn, event.comment_id)
        if row is None:
            return
        moderation = row.moderation or {}
        if "shadow" in (moderation.get("facts") or {}):
            return  # a shadow ban is not announced (see docs/dsa.md)
        if context is None:
            if event.kind is EventKind.CREATED or event.actor is None:
                context = Deciding(Source.AUTOMATED)
            elif event.actor == READERS:
                context = Deciding(Source.FLAGS, actor=None)
            else:
                context = Deciding(Source.MODERATOR, actor=event.actor)
        codes = [r.get("code") for r in moderation.get("reasons") or [] if r.get("code")]
        facts, ground = self._facts(context, moderation, codes)
        automated = context.source is Source.AUTOMATED
        # A person deciding on a comment the automated checks held (or filed as spam):
        # automated means detected it, a person decided (Art. 17(3)(c), 15(1)(c)).
        detected = automated or (context.source in (Source.MODERATOR, Source.NOTICE)
                                 and _held_by_checks(conn, event.comment_id))
        now = datetime.now(UTC)
        statement_id = conn.execute(insert(dsa_statements).values(
            site_id=event.site_id, comment_id=event.comment_id, state=event.new_state.value,
            restriction=restriction, source=context.source.value,
            notice_id=context.notice_id, ground_kind=context.ground_kind, ground=ground[:200],
            facts=facts, automated_detection=detected,
            automated_decision=automated or context.source is Source.FLAGS,
            decided_by=context.actor, created_at=now,
        ).returning(dsa_statements.c.id)).scalar_one()
        context.written.append(statement_id)
        # Decisions taken after posting go out by email too: at posting (or editing) the
        # author is in front of the widget, which shows the statement; spam is never
        # answered by email (that would be backscatter).
        if (row.author_email and event.kind is not EventKind.CREATED
                and context.source is not Source.AUTOMATED
                and event.new_state is not CommentState.SPAM):
            self._mail(conn, row.author_email, "statement", event.site_id,
                       comment_id=event.comment_id, statement_id=statement_id)

    @staticmethod
    def _facts(context: Deciding, moderation: dict[str, Any],
               codes: list[str]) -> tuple[str, str]:
        """(the facts and circumstances, the ground) of a statement, in plain words."""
        reason = (context.reason or "").strip()
        if context.source is Source.NOTICE:
            facts = f"A notice reported this comment as: {context.ground}."
            ground = context.ground or "illegal content"
            if context.ground_kind == "terms":
                facts += " It was not found illegal, but it breaks this site's comment rules."
                ground = "the site's comment rules"
        elif context.source is Source.FLAGS:
            facts = ("Readers reported this comment; at the number of reports the site has "
                     "set, a comment is hidden until a moderator reviews it.")
            ground = "the site's comment rules"
        elif context.source is Source.AUTOMATED:
            message = moderation.get("message") or ""
            found = ", ".join(c.replace("_", " ") for c in codes) or "the site's settings"
            facts = f"Automated checks found: {found}. {message}".strip()
            ground = "the site's comment rules"
        else:
            facts = "A moderator reviewed this comment."
            ground = "the site's comment rules"
        if reason:
            facts += f" The moderator's reason: {reason}"
        return facts[:4000], ground

    def statements(self, comment_id: int) -> list[dict[str, Any]]:
        """The statements about one comment, newest first, as its author sees them."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(dsa_statements).where(dsa_statements.c.comment_id == comment_id)
                .order_by(dsa_statements.c.id.desc()).limit(50)).all()
            site_id = rows[0].site_id if rows else None
        redress = self.policy_for(site_id).redress if site_id else ""
        latest = rows[0].id if rows else None
        return [self._statement_json(r, redress, latest=latest) for r in rows]

    def statement_by_token(self, token: str | None) -> dict[str, Any]:
        """The statement an emailed link points to, with the comment's text."""
        statement_id = self.tokens.statement_of(token)
        with self.db.read() as conn:
            row = conn.execute(select(dsa_statements).where(
                dsa_statements.c.id == statement_id)).first() if statement_id else None
            comment = queries.comment_row(conn, row.comment_id) if row is not None and (
                row.comment_id is not None) else None
            latest = _latest_statement(conn, row.comment_id) if row is not None else None
        if row is None:
            raise NotFound("this link is not valid (any more)")
        out = self._statement_json(row, self.policy_for(row.site_id).redress, latest=latest)
        out["comment_text"] = comment.text if comment is not None else ""
        out["site"] = row.site_id
        return out

    @staticmethod
    def _statement_json(row: Row[Any], redress: str, *,
                        latest: int | None) -> dict[str, Any]:
        """A statement as its author and staff see it; ``latest``: the id of the newest
        statement about its comment (an older one is replaced, not appealable)."""
        until = appeal_until(row.created_at)
        appealable = (row.appealed_at is None and row.lifted_at is None
                      and latest in (None, row.id) and datetime.now(UTC) < until)
        return {
            "id": row.id, "comment_id": row.comment_id, "state": row.state,
            "restriction": row.restriction, "source": row.source,
            "ground_kind": row.ground_kind, "ground": row.ground, "facts": row.facts,
            "automated_detection": bool(row.automated_detection),
            "automated_decision": bool(row.automated_decision),
            "created_at": iso(row.created_at), "lifted_at": iso(row.lifted_at),
            "appeal": None if row.appealed_at is None else {
                "text": row.appeal_text, "at": iso(row.appealed_at),
                "outcome": row.appeal_outcome, "decided_at": iso(row.appeal_decided_at),
                "reason": row.appeal_reason,
            },
            "appealable": appealable,
            "appeal_until": iso(until),
            "replaced": latest not in (None, row.id),
            "redress": redress,
        }

    # -- notices ------------------------------------------------------------------

    def submit_notice(self, comment_id: int, *, ground: str, explanation: str | None,
                      name: str | None, email: str | None, good_faith: bool,
                      ctx: RequestContext) -> dict[str, Any]:
        """A reader's notice that a comment is illegal; returns the receipt."""
        with self.db.read() as conn:
            row = queries.comment_row(conn, comment_id)
            thread = queries.thread_by_id(conn, row.thread_id) if row is not None else None
        if row is None or thread is None or row.state != CommentState.APPROVED.value:
            raise NotFound(f"no comment with id {comment_id}")
        self.sites.check_origin(self.sites.get(thread.site_id), ctx.origin)
        policy = self.policy_for(thread.site_id)
        chosen = next((g for g in policy.grounds if g.code == ground), None)
        if chosen is None:
            raise InvalidInput("ground: not one of this site's legal grounds",
                               code="invalid_ground")
        text = _text(explanation, "explanation")
        name = _clean_line(name, "name", 200)
        email = _check_email(email)
        if not good_faith:
            raise InvalidInput("good_faith: confirm that you believe the notice is accurate "
                               "and complete", code="good_faith_required")
        reporter, ip_hash = _reader_key(self.comments, thread.site_id, ctx)
        now = datetime.now(UTC)
        # Runs again after a deadlock or a connection lost before its COMMIT (not
        # after one lost at COMMIT: a second try could file the notice twice).
        for attempt in attempts("a notice"):
            with attempt, self.db.write() as conn:
                notice_id = conn.execute(insert(dsa_notices).values(
                    site_id=thread.site_id, comment_id=comment_id, ground=chosen.code,
                    ground_label=chosen.label, explanation=text, notifier_name=name,
                    notifier_email=email, good_faith=True, reporter=reporter, ip_hash=ip_hash,
                    created_at=now, deadline_at=now + timedelta(hours=policy.notice_hours),
                    status="open",
                ).returning(dsa_notices.c.id)).scalar_one()
                record_audit(conn, "reader", "dsa_notice", f"comment:{comment_id}", None,
                             {"notice": notice_id, "ground": chosen.code}, None,
                             site_id=thread.site_id)
                comment_flagged(conn, comment_id, reason=f"DSA notice: {chosen.label}")
                if email:
                    self._mail(conn, email, "receipt", thread.site_id, comment_id=comment_id,
                               notice_id=notice_id)
                notice = conn.execute(
                    select(dsa_notices).where(dsa_notices.c.id == notice_id)).one()
        return _receipt(notice)

    def notices(self, site_id: str, *, status: str = "open",
                limit: int = 100) -> list[dict[str, Any]]:
        """A site's notices for moderators: open ones by deadline, decided ones newest
        first. The notifier's email is never part of it, only whether one was given."""
        query = (select(dsa_notices, comments.c.text.label("comment_text"),
                        comments.c.state.label("comment_state"),
                        comments.c.author_name.label("comment_author"),
                        threads.c.title.label("thread_title"), threads.c.url.label("thread_url"))
                 .select_from(dsa_notices)
                 .outerjoin(comments, comments.c.id == dsa_notices.c.comment_id)
                 .outerjoin(threads, threads.c.id == comments.c.thread_id)
                 .where(dsa_notices.c.site_id == site_id))
        if status == "open":
            query = query.where(dsa_notices.c.status == "open").order_by(
                dsa_notices.c.deadline_at.asc(), dsa_notices.c.id.asc())
        elif status == "decided":
            query = query.where(dsa_notices.c.status == "decided").order_by(
                dsa_notices.c.id.desc())
        else:
            query = query.order_by(dsa_notices.c.id.desc())
        with self.db.read() as conn:
            rows = conn.execute(query.limit(limit)).all()
        return [_notice_json(r) for r in rows]

    def notice(self, notice_id: int) -> dict[str, Any]:
        found = [n for n in self._notice_rows(notice_id)]
        if not found:
            raise NotFound(f"no notice with id {notice_id}")
        return found[0]

    def _notice_rows(self, notice_id: int) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(dsa_notices, comments.c.text.label("comment_text"),
                       comments.c.state.label("comment_state"),
                       comments.c.author_name.label("comment_author"),
                       threads.c.title.label("thread_title"),
                       threads.c.url.label("thread_url"))
                .select_from(dsa_notices)
                .outerjoin(comments, comments.c.id == dsa_notices.c.comment_id)
                .outerjoin(threads, threads.c.id == comments.c.thread_id)
                .where(dsa_notices.c.id == notice_id)).all()
        return [_notice_json(r) for r in rows]

    def notice_site(self, notice_id: int) -> str:
        with self.db.read() as conn:
            site_id = conn.scalar(select(dsa_notices.c.site_id).where(
                dsa_notices.c.id == notice_id))
        if site_id is None:
            raise NotFound(f"no notice with id {notice_id}")
        return str(site_id)

    def decide_notice(self, notice_id: int, outcome: NoticeOutcome, *, actor: str,
                      reason: str | None = None) -> dict[str, Any]:
        """Decide a notice: remove the comment (illegal, or against the site's rules) or
        take no action. The author gets a statement of reasons, the notifier the decision.

        One transaction, the notice locked first: the comment's removal and the notice's
        decision commit together, and of two moderators deciding it at once the second
        finds it decided and changes nothing (its removal used to commit before it
        found out, leaving a comment removed under a notice decided "no action"). It
        runs again after a deadlock or a statement's lost connection, not after a lost
        COMMIT (it would find the notice decided already); so does an appeal's decision."""
        reason = (reason or "").strip()[:2000] or None
        for attempt in attempts("a decision on a DSA notice"):
            with attempt, self.db.write() as conn:
                notice = conn.execute(select(dsa_notices).where(
                    dsa_notices.c.id == notice_id).with_for_update()).first()
                if notice is None:
                    raise NotFound(f"no notice with id {notice_id}")
                if notice.status != "open":
                    raise Conflict(f"notice {notice_id} was decided already",
                                   code="decided_already")
                state = None if notice.comment_id is None else conn.scalar(
                    select(comments.c.state).where(comments.c.id == notice.comment_id))
                fitting = fitting_outcomes(state)
                if outcome is NoticeOutcome.UNAVAILABLE and outcome.value not in fitting:
                    raise InvalidInput("the comment is still there: decide on it",
                                       code="comment_available")
                if outcome is not NoticeOutcome.UNAVAILABLE and fitting == ["unavailable"]:
                    raise Conflict("the comment is no longer available (deleted or erased): "
                                   "decide \"unavailable\"", code="comment_gone")
                if outcome.value not in fitting:
                    raise Conflict(f"the comment is not published (it is {state}): "
                                   "\"no action\" would tell the notifier it stays; "
                                   "decide \"illegal\" or \"incompatible\", or publish "
                                   "it first", code="comment_not_published")
                removed = None
                if (outcome in (NoticeOutcome.ILLEGAL, NoticeOutcome.INCOMPATIBLE)
                        and notice.comment_id is not None
                        and not _removed_already(conn, notice.comment_id)):
                    # Removed already (on an earlier notice, by a moderator): the notice's
                    # outcome is recorded and its notifier told, the author not penalised
                    # again for the same comment.
                    kind = "illegal" if outcome is NoticeOutcome.ILLEGAL else "terms"
                    with deciding(Source.NOTICE, actor=actor, reason=reason, ground_kind=kind,
                                  ground=notice.ground_label, notice_id=notice_id):
                        removed = self.moderation.decide_in(
                            conn, notice.comment_id, StaffAction.REJECT, actor=actor,
                            reason=reason or f"DSA notice {notice_id}")
                conn.execute(update(dsa_notices).where(dsa_notices.c.id == notice_id).values(
                    status="decided", outcome=outcome.value, decided_by=actor[:200],
                    decided_at=datetime.now(UTC), decision_reason=reason))
                if removed is not None:
                    self.moderation.count_upheld_notice(conn, notice.site_id, removed.row)
                record_audit(conn, actor, "dsa_notice_decision", f"notice:{notice_id}",
                             {"status": "open"}, {"status": "decided", "outcome": outcome.value},
                             reason, site_id=notice.site_id)
                if notice.notifier_email:
                    self._mail(conn, notice.notifier_email, "notice_decision", notice.site_id,
                               comment_id=notice.comment_id, notice_id=notice_id)
        if removed is not None:
            self.moderation.after_decision(removed)
        return self.notice(notice_id)

    # -- appeals ------------------------------------------------------------------

    def appeal(self, statement_id: int, text: str | None, *,
               comment_id: int | None = None) -> dict[str, Any]:
        """The author's one appeal against a statement (``comment_id``: the comment the
        caller proved to have written; None when the statement's own token was shown)."""
        text = _text(text, "text")
        now = datetime.now(UTC)
        # Runs again after a deadlock or a connection lost before its COMMIT (not
        # after one lost at COMMIT: the second try would find it appealed already).
        for attempt in attempts("an appeal"):
            with attempt, self.db.write() as conn:
                row = conn.execute(select(dsa_statements).where(
                    dsa_statements.c.id == statement_id)).first()
                if row is None or (comment_id is not None and row.comment_id != comment_id):
                    raise NotFound(f"no statement with id {statement_id} for this comment")
                if row.appealed_at is not None:
                    raise Conflict("this decision was appealed already; an appeal is possible "
                                   "once", code="appealed_already")
                if row.lifted_at is not None:
                    raise InvalidInput("nothing to appeal: the comment is published again",
                                       code="nothing_to_appeal")
                if now >= appeal_until(row.created_at):
                    raise InvalidInput(
                        f"the time to appeal this decision ended on "
                        f"{appeal_until(row.created_at):%Y-%m-%d}, six months after it",
                        code="appeal_window_closed")
                latest = _latest_statement(conn, row.comment_id)
                if latest not in (None, row.id):
                    raise InvalidInput(f"a later decision replaced this one: appeal against "
                                       f"statement {latest} instead", code="superseded")
                conn.execute(update(dsa_statements).where(dsa_statements.c.id == statement_id)
                             .values(appeal_text=text, appealed_at=now))
                record_audit(conn, "author", "dsa_appeal", f"comment:{row.comment_id}", None,
                             {"statement": statement_id}, None, site_id=row.site_id)
                if row.comment_id is not None:
                    comment_flagged(conn, row.comment_id, reason="appeal against a decision")
                appealed = conn.execute(select(dsa_statements).where(
                    dsa_statements.c.id == statement_id)).one()
        return self._statement_json(appealed, self.policy_for(appealed.site_id).redress,
                                    latest=appealed.id)

    def appeals(self, site_id: str, *, pending_only: bool = True,
                limit: int = 100) -> list[dict[str, Any]]:
        query = (select(dsa_statements, comments.c.text.label("comment_text"),
                        comments.c.author_name.label("comment_author"))
                 .select_from(dsa_statements)
                 .outerjoin(comments, comments.c.id == dsa_statements.c.comment_id)
                 .where(dsa_statements.c.site_id == site_id,
                        dsa_statements.c.appealed_at.is_not(None)))
        if pending_only:
            query = query.where(dsa_statements.c.appeal_outcome.is_(None))
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(dsa_statements.c.appealed_at.asc())
                                .limit(limit)).all()
            latest = {row.id: _latest_statement(conn, row.comment_id) for row in rows}
        out = []
        for row in rows:
            item = self._statement_json(row, "", latest=latest[row.id])
            item.update(decided_by=row.decided_by, comment_text=row.comment_text or "",
                        comment_author=row.comment_author, notice_id=row.notice_id)
            out.append(item)
        return out

    def statement_site(self, statement_id: int) -> str:
        with self.db.read() as conn:
            site_id = conn.scalar(select(dsa_statements.c.site_id).where(
                dsa_statements.c.id == statement_id))
        if site_id is None:
            raise NotFound(f"no statement with id {statement_id}")
        return str(site_id)

    def decide_appeal(self, statement_id: int, outcome: AppealOutcome, *, actor: str,
                      reason: str | None = None) -> dict[str, Any]:
        """Decide an appeal; the moderator who took the first decision may not. A reversal
        publishes the comment again. The author, and a notice's notifier, are told. One
        transaction, the statement locked first, as a notice's decision."""
        reason = (reason or "").strip()[:2000] or None
        for attempt in attempts("a decision on an appeal"):
            with attempt, self.db.write() as conn:
                row = conn.execute(select(dsa_statements).where(
                    dsa_statements.c.id == statement_id).with_for_update()).first()
                if row is None:
                    raise NotFound(f"no statement with id {statement_id}")
                if row.appealed_at is None:
                    raise InvalidInput("this decision was not appealed", code="not_appealed")
                if row.appeal_outcome is not None:
                    raise Conflict("this appeal was decided already", code="decided_already")
                if row.decided_by and row.decided_by == actor:
                    raise Forbidden("a different moderator must decide the appeal against "
                                    "your own decision", code="same_moderator")
                latest = _latest_statement(conn, row.comment_id)
                if outcome is AppealOutcome.REVERSED and latest not in (None, row.id):
                    # Reversing it would undo the later decision too, unappealed.
                    raise Conflict(f"a later decision (statement {latest}) replaced this "
                                   f"one; it can only be upheld", code="superseded")
                published = None
                if outcome is AppealOutcome.REVERSED and row.comment_id is not None:
                    with deciding(Source.MODERATOR, actor=actor, quiet=True):
                        published = self.moderation.decide_in(
                            conn, row.comment_id, StaffAction.APPROVE, actor=actor,
                            reason=reason or f"appeal against statement {row.id}")
                    if row.notice_id is not None:
                        # The upheld notice counted against the author; reversed, not.
                        self.moderation.uncount_upheld_notice(conn, row.site_id,
                                                              published.row)
                conn.execute(update(dsa_statements).where(
                    dsa_statements.c.id == statement_id).values(
                    appeal_outcome=outcome.value, appeal_decided_by=actor[:200],
                    appeal_decided_at=datetime.now(UTC), appeal_reason=reason))
                record_audit(conn, actor, "dsa_appeal_decision", f"comment:{row.comment_id}",
                             None, {"statement": statement_id, "outcome": outcome.value}, reason,
                             site_id=row.site_id)
                comment = queries.comment_row(conn, row.comment_id) if row.comment_id else None
                if comment is not None and comment.author_email:
                    self._mail(conn, comment.author_email, "appeal_decision", row.site_id,
                               comment_id=row.comment_id, statement_id=statement_id)
                if row.notice_id is not None:
                    notifier = conn.scalar(select(dsa_notices.c.notifier_email).where(
                        dsa_notices.c.id == row.notice_id))
                    if notifier:
                        self._mail(conn, notifier, "appeal_decision_notifier", row.site_id,
                                   comment_id=row.comment_id, statement_id=statement_id,
                                   notice_id=row.notice_id)
                decided = conn.execute(select(dsa_statements).where(
                    dsa_statements.c.id == statement_id)).one()
        if published is not None:
            self.moderation.after_decision(published)
        return self._statement_json(decided, self.policy_for(decided.site_id).redress,
                                    latest=latest)

    # -- notifiers' complaints ------------------------------------------------------

    def notice_by_token(self, token: str | None) -> dict[str, Any]:
        """The notice an emailed link points to, as its notifier sees it: the decision
        and the complaint form (never the notifier's own address, nor who decided)."""
        notice_id = self.tokens.notice_of(token)
        found = self._notice_rows(notice_id) if notice_id is not None else []
        if not found:
            raise NotFound("this link is not valid (any more)")
        notice = found[0]
        comment = notice["comment"]
        return {
            "id": notice["id"], "site": notice["site"], "ground_label": notice["ground_label"],
            "received_at": notice["received_at"], "status": notice["status"],
            "outcome": notice["outcome"], "decided_at": notice["decided_at"],
            "decision_reason": notice["decision_reason"],
            "comment_text": comment["text"] if comment is not None else "",
            "complaint": notice["complaint"], "complainable": notice["complainable"],
            "complain_until": notice["complain_until"],
            "redress": self.policy_for(notice["site"]).redress,
        }

    def complain(self, notice_id: int, text: str | None) -> dict[str, Any]:
        """The notifier's one complaint against a notice decided "no action" (Art. 20(1):
        the complaint right is the notifier's too), for six months after the decision."""
        text = _text(text, "text")
        now = datetime.now(UTC)
        # Runs again after a deadlock or a connection lost before its COMMIT (not
        # after one lost at COMMIT: the second try would find it complained already).
        for attempt in attempts("a notifier's complaint"):
            with attempt, self.db.write() as conn:
                row = conn.execute(select(dsa_notices).where(
                    dsa_notices.c.id == notice_id)).first()
                if row is None:
                    raise NotFound(f"no notice with id {notice_id}")
                if row.complained_at is not None:
                    raise Conflict("this decision was complained about already; a "
                                   "complaint is possible once", code="complained_already")
                if row.outcome != NoticeOutcome.NO_ACTION.value:
                    raise InvalidInput("nothing to complain about: the notice was not "
                                       "decided \"no action\"", code="nothing_to_complain")
                if now >= appeal_until(row.decided_at):
                    raise InvalidInput(
                        f"the time to complain about this decision ended on "
                        f"{appeal_until(row.decided_at):%Y-%m-%d}, six months after it",
                        code="appeal_window_closed")
                conn.execute(update(dsa_notices).where(dsa_notices.c.id == notice_id)
                             .values(complaint_text=text, complained_at=now))
                record_audit(conn, "notifier", "dsa_complaint", f"notice:{notice_id}", None,
                             {"notice": notice_id, "comment": row.comment_id}, None,
                             site_id=row.site_id)
                if row.comment_id is not None:
                    comment_flagged(conn, row.comment_id,
                                    reason="complaint against a notice's decision")
        return self.notice(notice_id)

    def complaints(self, site_id: str, *, pending_only: bool = True,
                   limit: int = 100) -> list[dict[str, Any]]:
        """Notifiers' complaints, oldest first, as moderators see them (with the
        authors' appeals in the workspace)."""
        query = (select(dsa_notices, comments.c.text.label("comment_text"),
                        comments.c.state.label("comment_state"),
                        comments.c.author_name.label("comment_author"),
                        threads.c.title.label("thread_title"), threads.c.url.label("thread_url"))
                 .select_from(dsa_notices)
                 .outerjoin(comments, comments.c.id == dsa_notices.c.comment_id)
                 .outerjoin(threads, threads.c.id == comments.c.thread_id)
                 .where(dsa_notices.c.site_id == site_id,
                        dsa_notices.c.complained_at.is_not(None)))
        if pending_only:
            query = query.where(dsa_notices.c.complaint_outcome.is_(None))
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(dsa_notices.c.complained_at.asc())
                                .limit(limit)).all()
        return [_notice_json(r) for r in rows]

    def decide_complaint(self, notice_id: int, outcome: AppealOutcome, *, actor: str,
                         reason: str | None = None) -> dict[str, Any]:
        """Decide a notifier's complaint; the moderator who decided the notice may not.
        Reversed, the comment is removed on the notice's ground as a notice found
        illegal removes it: its author gets a statement of reasons, and the upheld
        notice counts against them. The notifier is told. One transaction, the notice
        locked first, as a notice's decision."""
        reason = (reason or "").strip()[:2000] or None
        for attempt in attempts("a decision on a notifier's complaint"):
            with attempt, self.db.write() as conn:
                notice = conn.execute(select(dsa_notices).where(
                    dsa_notices.c.id == notice_id).with_for_update()).first()
                if notice is None:
                    raise NotFound(f"no notice with id {notice_id}")
                if notice.complained_at is None:
                    raise InvalidInput("no complaint was made about this decision",
                                       code="not_complained")
                if notice.complaint_outcome is not None:
                    raise Conflict("this complaint was decided already",
                                   code="decided_already")
                if notice.decided_by and notice.decided_by == actor:
                    raise Forbidden("a different moderator must decide the complaint about "
                                    "your own decision", code="same_moderator")
                removed = None
                if (outcome is AppealOutcome.REVERSED and notice.comment_id is not None
                        and not _removed_already(conn, notice.comment_id)):
                    with deciding(Source.NOTICE, actor=actor, reason=reason,
                                  ground_kind="illegal", ground=notice.ground_label,
                                  notice_id=notice_id):
                        removed = self.moderation.decide_in(
                            conn, notice.comment_id, StaffAction.REJECT, actor=actor,
                            reason=reason or f"complaint about DSA notice {notice_id}")
                    self.moderation.count_upheld_notice(conn, notice.site_id, removed.row)
                conn.execute(update(dsa_notices).where(dsa_notices.c.id == notice_id).values(
                    complaint_outcome=outcome.value, complaint_decided_by=actor[:200],
                    complaint_decided_at=datetime.now(UTC), complaint_reason=reason))
                record_audit(conn, actor, "dsa_complaint_decision", f"notice:{notice_id}",
                             None, {"notice": notice_id, "outcome": outcome.value}, reason,
                             site_id=notice.site_id)
                if notice.notifier_email:
                    self._mail(conn, notice.notifier_email, "complaint_decision",
                               notice.site_id, comment_id=notice.comment_id,
                               notice_id=notice_id)
        if removed is not None:
            self.moderation.after_decision(removed)
        return self.notice(notice_id)

    # -- transparency ---------------------------------------------------------------

    def transparency(self, since: datetime, until: datetime,
                     site_id: str | None = None) -> dict[str, Any]:
        """The figures of a transparency report (``dsa_transparency.report``)."""
        return report(self.db, since, until, site_id)

    # -- mail ---------------------------------------------------------------------------

    def _mail(self, conn: Connection, recipient: str, what: str, site_id: str, *,
              comment_id: int | None, statement_id: int | None = None,
              notice_id: int | None = None) -> None:
        now = datetime.now(UTC)
        outbox.enqueue(
            conn, channel=Channel.EMAIL, kind=MessageKind.DSA,
            batch_key=f"dsa:{what}:{statement_id or 0}:{notice_id or 0}:{recipient}"[:200],
            recipient=recipient, now=now, due_at=now, site_id=site_id, comment_id=comment_id,
            payload={"what": what, "statement_id": statement_id, "notice_id": notice_id},
        )


def _receipt(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id, "comment_id": row.comment_id, "ground": row.ground,
        "ground_label": row.ground_label, "received_at": iso(row.created_at),
        "deadline_at": iso(row.deadline_at), "status": row.status,
    }


def _notice_json(row: Row[Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        **_receipt(row),
        "site": row.site_id,
        "explanation": row.explanation,
        "notifier_name": row.notifier_name,
        "notifier_email_given": bool(row.notifier_email),
        "good_faith": bool(row.good_faith),
        "overdue": row.status == "open" and row.deadline_at < now,
        "outcome": row.outcome, "decided_by": row.decided_by,
        "decided_at": iso(row.decided_at), "decision_reason": row.decision_reason,
        "complaint": _complaint_json(row),
        "complainable": _complainable(row),
        "complain_until": iso(appeal_until(row.decided_at)) if row.decided_at else None,
        "comment_available": (row.comment_state is not None
                              and row.comment_state != CommentState.DELETED.value),
        "outcomes": fitting_outcomes(row.comment_state),
        "comment": None if row.comment_text is None else {
            "text": row.comment_text, "state": row.comment_state,
            "author": row.comment_author, "thread_title": row.thread_title,
            "thread_url": row.thread_url,
        },
    }


def _complainable(row: Row[Any]) -> bool:
    """Whether the notifier may still complain against the notice's decision: once,
    against "no action", for six months (Art. 20(1))."""
    return (row.outcome == NoticeOutcome.NO_ACTION.value and row.complained_at is None
            and row.decided_at is not None
            and datetime.now(UTC) < appeal_until(row.decided_at))


def _complaint_json(row: Row[Any]) -> dict[str, Any] | None:
    if row.complained_at is None:
        return None
    return {"text": row.complaint_text, "at": iso(row.complained_at),
            "outcome": row.complaint_outcome, "decided_by": row.complaint_decided_by,
            "decided_at": iso(row.complaint_decided_at), "reason": row.complaint_reason}


__all__ = [
    "AppealOutcome", "Deciding", "DsaService", "NoticeOutcome", "Source", "deciding",
]
