"""The queue: comments that need (or recently got) a moderator, across the sites a
staff member may see, with the context a decision needs. Reads only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import String, Text, and_, case, cast, func, literal, or_, select, union_all

from rostra.core.errors import InvalidInput
from rostra.core.ids import parse_id
from rostra.moderation.checks.reputation import History
from rostra.moderation.identity import author_key_of_row, email_key
from rostra.moderation.trust import trust_level, trust_score
from rostra.store.db import Database
from rostra.store.moderation_tables import author_stats, bans, flags
from rostra.store.staff_tables import comment_pins, comment_revisions
from rostra.store.tables import comments, threads

PAGE_SIZE = 25
ORDERS = ("newest", "oldest", "risk")
RECENT = timedelta(days=7)  # "recently approved"
CONTEXT_REPLIES = 5


class QueueState(StrEnum):
    PENDING = "pending"  # held, but not a shadow-banned author's
    SHADOW = "shadow"  # held because its author is shadow-banned
    FLAGGED = "flagged"
    SPAM = "spam"
    APPROVED = "approved"  # recently approved
    REJECTED = "rejected"
    DELETED = "deleted"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the moderator asked to see; every field is optional but ``sites``."""

    sites: tuple[str, ...]
    state: QueueState = QueueState.PENDING
    thread: str = ""
    reason: str = ""
    language: str = ""
    author: str = ""
    since: date | None = None
    until: date | None = None
    search: str = ""
    order: str = "newest"  # newest, oldest, or risk (most likely abusive first)
    page: int = 1  # by number: only a link from before pages followed the comments
    after: int | None = None  # the page after this comment (the last one shown) ...
    before: int | None = None  # ... or the page before this one (the first one shown)

    @classmethod
    def parse(cls, params: dict[str, str], sites: tuple[str, ...]) -> QueueFilter:
        """From query parameters; raises InvalidInput naming a bad one."""
        try:
            state = QueueState(params.get("state") or "pending")
        except ValueError:
            raise InvalidInput("state: one of " + ", ".join(s.value for s in QueueState)) from None

        def day(name: str) -> date | None:
            value = params.get(name, "").strip()
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise InvalidInput(f"{name}: a date such as 2024-05-31") from None

        order = params.get("order") or "newest"
        if order not in ORDERS:
            raise InvalidInput("order: one of " + ", ".join(ORDERS))
        try:
            page = max(1, min(10_000, int(params.get("page") or 1)))
        except ValueError:
            raise InvalidInput("page: a whole number") from None

        def anchor(name: str) -> int | None:
            value = params.get(name, "").strip()
            if not value:
                return None
            found = parse_id(value)
            if found is None:
                raise InvalidInput(f"{name}: a comment id")
            return found

        return cls(
            sites=sites, state=state, thread=params.get("thread", "").strip()[:1000],
            reason=params.get("reason", "").strip()[:40],
            language=params.get("language", "").strip()[:16],
            author=params.get("author", "").strip()[:320], since=day("since"),
            until=day("until"), search=params.get("q", "").strip()[:200],
            order=order, page=page, after=anchor("after"), before=anchor("before"),
        )


@dataclass
class QueuePage:
    """One page of the queue: its comments, where they stand, whether more are on either
    side (as the queue is now: "after" and "before" follow comments, not counts)."""

    items: list[QueueItem]
    first: int  # the position of the page's first comment in the whole list, from 1
    has_before: bool
    has_after: bool


@dataclass
class QueueItem:
    """One comment with what a moderator needs to decide about it."""

    comment: dict[str, Any]
    parent: dict[str, Any] | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)
    history: dict[str, Any] = field(default_factory=dict)
    flags: list[dict[str, Any]] = field(default_factory=list)
    pin: str | None = None
    revisions: int = 0


def _like(value: str) -> str:
    """A LIKE pattern matching ``value`` literally anywhere (escape with '!')."""
    escaped = value.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _where(f: QueueFilter) -> list[Any]:
    c = comments.c
    now = datetime.now(UTC)
    where: list[Any] = [threads.c.site_id.in_(f.sites)]
    if f.state is QueueState.FLAGGED:
        where.append(c.id.in_(select(flags.c.comment_id).where(flags.c.resolved_at.is_(None))))
    elif f.state is QueueState.APPROVED:
        where += [c.state == "approved", c.created_at >= now - RECENT]
    elif f.state is QueueState.PENDING:
        where += [c.state == "pending", _shadow_banned().is_(None)]
    elif f.state is QueueState.SHADOW:
        where += [c.state == "pending", _shadow_banned().is_not(None)]
    elif f.state is not QueueState.ALL:
        where.append(c.state == f.state.value)
    if f.thread:
        thread_id = parse_id(f.thread)
        if thread_id is not None:
            where.append(c.thread_id == thread_id)
        else:
            where.append(or_(threads.c.key.like(_like(f.thread), escape="!"),
                             threads.c.title.ilike(_like(f.thread), escape="!")))
    if f.reason:
        # The stored decision is JSON; its text form is the same on SQLite and PostgreSQL.
        as_text = cast(c.moderation, Text)
        where.append(or_(as_text.like(_like(f'"code": "{f.reason}"'), escape="!"),
                         as_text.like(_like(f'"check": "{f.reason}"'), escape="!")))
    if f.language:
        where.append(c.language == f.language.lower())
    if f.author:
        where.append(or_(c.author_name.ilike(_like(f.author), escape="!"),
                         func.lower(c.author_email) == f.author.lower()))
    if f.since:
        where.append(c.created_at >= datetime.combine(f.since, datetime.min.time(), UTC))
    if f.until:
        where.append(c.created_at < datetime.combine(f.until + timedelta(days=1),
                                                      datetime.min.time(), UTC))
    if f.search:
        where.append(c.text.ilike(_like(f.search), escape="!"))
    return where


def _shadow_banned() -> Any:
    """The ban that held a comment of a shadow-banned author (kept in its decision's
    facts; NULL for every other comment): such comments are stored pending, and listed
    apart from the held ones."""
    return comments.c.moderation["facts"]["shadow"].as_string()


def _staff_json(row: Any) -> dict[str, Any]:
    moderation = row.moderation or {}
    return {
        "id": row.id, "state": row.state, "text": row.text, "html": row.html,
        "author": {"name": row.author_name, "email": row.author_email,
                   "website": row.author_website, "account_id": row.account_id},
        "created_at": row.created_at, "edited_at": row.edited_at, "language": row.language,
        "parent_id": row.parent_id, "thread_id": row.thread_id, "site": row.site_id,
        "thread": {"id": row.thread_id, "key": row.thread_key, "title": row.thread_title,
                   "url": row.thread_url},
        "score": row.score, "reply_count": row.reply_count,
        "moderation": {"action": moderation.get("action"),
                       "reasons": list(moderation.get("reasons") or []),
                       "message": moderation.get("message")},
        "shadow": "shadow" in (moderation.get("facts") or {}),
        "shadow_ban": _shadow_ban(moderation.get("facts") or {}),
        "risk": _risk(moderation.get("facts") or {}),
        "voter_id": row.voter_id, "ip_hash": row.ip_hash,
    }


def _shadow_ban(facts: dict[str, Any]) -> dict[str, Any] | None:
    """For moderators only: the shadow ban that holds a comment and what the checks said
    of it (its stored reasons are the disguise its author is told)."""
    shadow = facts.get("shadow")
    if not isinstance(shadow, dict):
        return None
    return {"ban": shadow.get("ban"), "kind": shadow.get("kind"),
            "action": shadow.get("action"), "reasons": list(shadow.get("reasons") or [])}


def _risk(facts: dict[str, Any]) -> dict[str, Any] | None:
    """What the classifier said, for the moderator: the abuse score, each class's score,
    and the words or sentence that drove it (kept in the decision's facts)."""
    if "toxicity" not in facts:
        return None
    classes = facts.get("toxicity_classes") or {}
    return {
        "score": float(facts["toxicity"]),
        "classes": [(name, float(classes[name])) for name in RISK_CLASSES if name in classes],
        "evidence": facts.get("toxicity_evidence") or {},
    }


# The classes shown beside a held comment, in the order a moderator reads them.
RISK_CLASSES = ("threat", "identity_hate", "insult", "profanity", "spam")


def _order_keys(order: str) -> list[tuple[Any, bool]]:
    """The queue's order as (expression, descending) keys, the last one unique, so that a
    page can go on after (or before) a given comment.

    Risk: most likely abusive first, by the stored abuse score, then the higher spam
    score; comments the classifier never read come last. Otherwise by the time comments
    were posted, never by their ids alone: ids are taken ahead by each posting process (a
    hundred at a time on PostgreSQL), so comments from two processes or servers
    interleave in blocks."""
    newest = [(comments.c.created_at, True), (comments.c.id, True)]
    if order == "oldest":
        return [(comments.c.created_at, False), (comments.c.id, False)]
    if order != "risk":
        return newest
    facts = comments.c.moderation["facts"]
    toxicity = facts["toxicity"].as_float()
    spam = facts["toxicity_classes"]["spam"].as_float()
    return [(case((toxicity.is_(None), 1), else_=0), False),
            (func.coalesce(toxicity, 0.0), True), (func.coalesce(spam, 0.0), True), *newest]


def _order_by(keys: list[tuple[Any, bool]], *, reverse: bool = False) -> list[Any]:
    return [key.desc() if descending != reverse else key.asc() for key, descending in keys]


def _beyond(keys: list[tuple[Any, bool]], anchor: Any, *, after: bool) -> Any:
    """The comments after (or before) the one whose keys are ``anchor``, in this order."""
    either = []
    for n, (key, descending) in enumerate(keys):
        ties = [k == v for (k, _), v in zip(keys[:n], anchor[:n], strict=True)]
        value = anchor[n]
        either.append(and_(*ties, key < value if descending == after else key > value))
    return or_(*either)


def _oldest_first() -> tuple[Any, ...]:
    return comments.c.created_at.asc(), comments.c.id.asc()


def _base() -> Any:
    return (
        select(comments, threads.c.key.label("thread_key"), threads.c.title.label("thread_title"),
               threads.c.url.label("thread_url"), threads.c.site_id.label("site_id"))
        .join(threads, threads.c.id == comments.c.thread_id)
    )


class QueueReader:
    """Queries behind the queue page and the per-comment pages."""

    def __init__(self, db: Database, ip_salt: str,
                 trusted_after: Callable[[str], int] | None = None) -> None:
        self.db = db
        self.ip_salt = ip_salt
        # The site's trust line (its policy's trust.trusted_after).
        self.trusted_after = trusted_after or (lambda _site: 10)

    def count(self, f: QueueFilter) -> int:
        if not f.sites:
            return 0
        query = (select(func.count()).select_from(comments)
                 .join(threads, threads.c.id == comments.c.thread_id).where(*_where(f)))
        with self.db.read() as conn:
            return int(conn.scalar(query) or 0)

    def page(self, f: QueueFilter) -> QueuePage:
        """The page after ``f.after`` or before ``f.before`` (as the queue is now: what
        was decided or posted meanwhile moves nothing); without them, or when that comment
        is gone, the ``f.page``-th page by number."""
        if not f.sites:
            return QueuePage([], 1, False, False)
        keys = _order_keys(f.order)
        where = _where(f)
        labelled = [key.label(f"order_{n}") for n, (key, _) in enumerate(keys)]

        def keys_of(row: Any) -> tuple[Any, ...]:
            return tuple(row._mapping[f"order_{n}"] for n in range(len(keys)))

        def counted(*more: Any) -> Any:
            return (select(func.count()).select_from(comments)
                    .join(threads, threads.c.id == comments.c.thread_id).where(*where, *more))

        with self.db.read() as conn:
            anchor_id = f.after if f.after is not None else f.before
            anchor = conn.execute(select(*labelled).where(comments.c.id == anchor_id)).first() \
                if anchor_id is not None else None
            backwards = anchor is not None and f.after is None
            query = (_base().add_columns(*labelled).where(*where)
                     .order_by(*_order_by(keys, reverse=backwards)).limit(PAGE_SIZE + 1))
            if anchor is not None:
                query = query.where(_beyond(keys, keys_of(anchor), after=not backwards))
            else:
                query = query.offset((f.page - 1) * PAGE_SIZE)
            rows = list(conn.execute(query).all())
            more = len(rows) > PAGE_SIZE  # in the direction read
            rows = rows[:PAGE_SIZE]
            if backwards:
                rows.reverse()
            if not rows:
                total = int(conn.scalar(counted()) or 0)
                return QueuePage([], total + 1, total > 0, False)
            before_first = int(conn.scalar(
                counted(_beyond(keys, keys_of(rows[0]), after=False))) or 0)
            has_after = more if not backwards else conn.scalar(
                counted(_beyond(keys, keys_of(rows[-1]), after=True))) != 0
            items = self._items(conn, rows)
        return QueuePage(items, before_first + 1, before_first > 0, bool(has_after))

    def item(self, comment_id: int) -> QueueItem | None:
        with self.db.read() as conn:
            row = conn.execute(_base().where(comments.c.id == comment_id)).first()
            return self._items(conn, [row])[0] if row is not None else None

    def site_of(self, comment_id: int) -> str | None:
        with self.db.read() as conn:
            value = conn.scalar(select(threads.c.site_id)
                                .join(comments, comments.c.thread_id == threads.c.id)
                                .where(comments.c.id == comment_id))
        return str(value) if value is not None else None

    def revisions(self, comment_id: int) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = conn.execute(select(comment_revisions)
                                .where(comment_revisions.c.comment_id == comment_id)
                                .order_by(comment_revisions.c.id.desc())).all()
        return [{"id": r.id, "text": r.text, "edited_by": r.edited_by,
                 "created_at": r.created_at} for r in rows]

    def _items(self, conn: Any, rows: list[Any]) -> list[QueueItem]:
        """Each comment with its context, read for the whole page at once: a fixed number
        of statements however many comments the page has (one each was ~190 round trips
        for a page of 25)."""
        ids = [row.id for row in rows]
        parent_ids = list({row.parent_id for row in rows if row.parent_id is not None})
        parents = {r.id: _staff_json(r) for r in conn.execute(
            _base().where(comments.c.id.in_(parent_ids))).all()} if parent_ids else {}
        replies: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(_first_replies(ids)).all():
            replies.setdefault(r.parent_id, []).append(_staff_json(r))
        flag_rows: dict[int, list[dict[str, Any]]] = {}
        for f in conn.execute(select(flags).where(flags.c.comment_id.in_(ids))
                              .order_by(flags.c.created_at.asc(), flags.c.reader.asc())).all():
            flag_rows.setdefault(f.comment_id, []).append(
                {"reason": f.reason, "note": f.note, "open": f.resolved_at is None,
                 "created_at": f.created_at})
        pins = dict(conn.execute(select(comment_pins.c.comment_id, comment_pins.c.kind)
                                 .where(comment_pins.c.comment_id.in_(ids))).all())
        revisions = dict(conn.execute(
            select(comment_revisions.c.comment_id, func.count())
            .where(comment_revisions.c.comment_id.in_(ids))
            .group_by(comment_revisions.c.comment_id)).all())
        histories = self._histories(conn, rows)
        return [
            QueueItem(comment=_staff_json(row),
                      parent=parents.get(row.parent_id) if row.parent_id is not None else None,
                      replies=replies.get(row.id, []), history=histories[n],
                      flags=flag_rows.get(row.id, []), pin=pins.get(row.id),
                      revisions=int(revisions.get(row.id, 0)))
            for n, row in enumerate(rows)
        ]

    def _histories(self, conn: Any, rows: list[Any]) -> list[dict[str, Any]]:
        """Each author's record on the comment's site: comments by state, bans ever placed
        and earned trust; three statements for the whole page."""
        c = comments.c
        known = [_known_by(row) for row in rows]
        wanted: dict[str, set[Any]] = {}
        for who in known:
            if who is not None:
                wanted.setdefault(who[0], set()).add(who[1])
        sites = list({row.site_id for row in rows})
        by_state: dict[tuple[str, str, str], dict[str, int]] = {}
        if wanted:
            # One branch per way of knowing an author (as _known_by), all in one statement.
            branches = [
                select(literal(label).label("label"), threads.c.site_id,
                       cast(_SAME_AUTHOR[label], String).label("who"), c.state,
                       func.count().label("n"))
                .join(threads, threads.c.id == c.thread_id)
                .where(threads.c.site_id.in_(sites), _SAME_AUTHOR[label].in_(list(values)))
                .group_by(threads.c.site_id, _SAME_AUTHOR[label], c.state)
                for label, values in wanted.items()
            ]
            counted = union_all(*branches).subquery()
            for r in conn.execute(select(counted).order_by(counted.c.state)).all():
                by_state.setdefault((r.label, r.site_id, r.who), {})[r.state] = int(r.n)
        keys = [_ban_keys(row, self.ip_salt) for row in rows]
        all_keys = list({k for ks in keys for k in ks})
        ban_rows: dict[tuple[str, str], list[Any]] = {}
        if all_keys:
            for b in conn.execute(select(bans.c.site_id, bans.c.value, bans.c.lifted_at,
                                         bans.c.expires_at)
                                  .where(bans.c.site_id.in_(sites),
                                         bans.c.value.in_(all_keys))).all():
                ban_rows.setdefault((b.site_id, b.value), []).append(b)
        trust = self._trusts(conn, rows)
        now = datetime.now(UTC)
        out: list[dict[str, Any]] = []
        for n, row in enumerate(rows):
            who = known[n]
            if who is None:
                out.append({"known_by": None, "total": 1, "by_state": {row.state: 1},
                            "approved_ratio": None, "bans": 0, "active_bans": 0})
                continue
            states = by_state.get((who[0], row.site_id, str(who[1])), {})
            total = sum(states.values())
            decided = total - states.get("pending", 0)
            placed = [b for k in keys[n] for b in ban_rows.get((row.site_id, k), [])]
            active = [b for b in placed
                      if b.lifted_at is None and (b.expires_at is None or b.expires_at > now)]
            out.append({
                "known_by": who[0], "total": total, "by_state": states,
                "approved_ratio": (states.get("approved", 0) / decided) if decided else None,
                "bans": len(placed), "active_bans": len(active), "trust": trust[n],
            })
        return out

    def _trusts(self, conn: Any, rows: list[Any]) -> list[dict[str, Any]]:
        """Each author's earned trust on the comment's site: level, score and what made
        them (one statement for the page)."""
        authors = [author_key_of_row(row, self.ip_salt) for row in rows]
        stats: dict[tuple[str, str], History] = {}
        if any(authors):
            for r in conn.execute(
                    select(author_stats.c.site_id, author_stats.c.author,
                           author_stats.c.approved, author_stats.c.rejected,
                           author_stats.c.spam, author_stats.c.notices)
                    .where(author_stats.c.site_id.in_(list({row.site_id for row in rows})),
                           author_stats.c.author.in_(list({a for a in authors if a})))).all():
                stats[(r.site_id, r.author)] = History(r.approved, r.rejected, r.spam,
                                                       r.notices)
        lines = {site: self.trusted_after(site) for site in {row.site_id for row in rows}}
        out = []
        for row, author in zip(rows, authors, strict=True):
            history = stats.get((row.site_id, author), History()) if author else History()
            out.append({"level": trust_level(history, lines[row.site_id]).value,
                        "score": trust_score(history), "approved": history.approved,
                        "rejected": history.rejected, "spam": history.spam,
                        "notices": history.notices})
        return out


# How the queue tells an author's other comments on the site, by the first of these the
# comment has (an account, an email, a browser's voter id, an address).
_SAME_AUTHOR: dict[str, Any] = {
    "account": comments.c.account_id, "email": func.lower(comments.c.author_email),
    "browser": comments.c.voter_id, "address": comments.c.ip_hash,
}


def _known_by(row: Any) -> tuple[str, Any] | None:
    """How the comment's author is told apart (a key of _SAME_AUTHOR) and its value."""
    if row.account_id is not None:
        return "account", row.account_id
    if row.author_email:
        return "email", row.author_email.lower()
    if row.voter_id:
        return "browser", row.voter_id
    if row.ip_hash:
        return "address", row.ip_hash
    return None


def _ban_keys(row: Any, ip_salt: str) -> list[str]:
    """The keys a ban on the comment's author may be placed on."""
    if _known_by(row) is None:
        return []
    return [k for k in (
        f"a:{row.account_id}" if row.account_id is not None else None,
        email_key(row.author_email, ip_salt) if row.author_email else None,
        f"v:{row.voter_id}" if row.voter_id else None,
        f"i:{row.ip_hash}" if row.ip_hash else None,
    ) if k]


def _first_replies(ids: list[int]) -> Any:
    """The first CONTEXT_REPLIES replies to each of ``ids``, oldest first."""
    rank = func.row_number().over(partition_by=comments.c.parent_id,
                                  order_by=_oldest_first()).label("reply_rank")
    ranked = _base().add_columns(rank).where(comments.c.parent_id.in_(ids)).subquery()
    return (select(ranked).where(ranked.c.reply_rank <= CONTEXT_REPLIES)
            .order_by(ranked.c.created_at.asc(), ranked.c.id.asc()))


def reason_codes(items: list[QueueItem]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        for reason in item.comment["moderation"]["reasons"]:
            seen.setdefault(str(reason.get("code")), None)
    return list(seen)


__all__ = ["PAGE_SIZE", "QueueFilter", "QueueItem", "QueuePage", "QueueReader", "QueueState",
           "reason_codes"]
