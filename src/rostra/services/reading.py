"""Reading threads: pages of top-level comments with their reply trees, and counts."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from rostra.config import Settings
from rostra.core.errors import InvalidInput
from rostra.core.models import CommentState, SortOrder
from rostra.core.thread_keys import ThreadKeyError, thread_key
from rostra.moderation.checks.reputation import History
from rostra.moderation.identity import author_key_of_row
from rostra.moderation.policy import TrustPolicy
from rostra.moderation.trust import TrustLevel, trust_level
from rostra.services.serialise import comment_json, note_json, thread_json
from rostra.services.sites import SiteService
from rostra.store import queries
from rostra.store.db import Database, attempts

MAX_COUNT_KEYS = 200


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page starts. ``since`` is when the first Most Voted page was read."""

    sort: SortOrder
    keyset: queries.Keyset
    since: datetime | None = None

    def encode(self) -> str:
        data: dict[str, Any] = {
            "s": self.sort.value,
            "t": self.keyset.created_at.isoformat(),
            "i": self.keyset.id,
        }
        if self.keyset.score is not None:
            data["c"] = self.keyset.score
        if self.since is not None:
            data["q"] = self.since.isoformat()
        return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: SortOrder) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = orjson.loads(raw)
            cursor = cls(
                sort=SortOrder(data["s"]),
                keyset=queries.Keyset(
                    created_at=datetime.fromisoformat(data["t"]).astimezone(UTC),
                    id=int(data["i"]),
                    score=int(data["c"]) if "c" in data else None,
                ),
                since=datetime.fromisoformat(data["q"]).astimezone(UTC) if "q" in data else None,
            )
        except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
            raise InvalidInput("cursor: not a cursor this server gave out") from None
        if cursor.sort is not sort:
            raise InvalidInput("cursor: was made for another sort order")
        if sort is SortOrder.VOTES and (cursor.keyset.score is None or cursor.since is None):
            raise InvalidInput("cursor: not a cursor this server gave out")
        return cursor


@dataclass(frozen=True, slots=True)
class PageRequest:
    thread: str
    site: str | None = None
    sort: SortOrder = SortOrder.NEWEST
    limit: int | None = None  # None: the site's page size; 0: all
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """A page ready to serialise, and what a cache needs to know about it."""

    body: dict[str, Any]
    site_id: str
    key: str
    thread_id: int | None


def _build_tree(
    tops: Sequence[Any], replies: Sequence[Any], highlights: dict[int, str] | None = None,
    notes: Sequence[Any] = (), regulars: set[int] | frozenset[int] = frozenset(),
    staff: set[int] | frozenset[int] = frozenset(),
) -> list[dict[str, Any]]:
    """The page's comments as a tree, with their badges; ``staff``: the reader accounts
    that are the site's staff (their comments say so)."""
    highlights = highlights or {}
    nodes: dict[int, dict[str, Any]] = {}
    out = []
    for row in tops:
        node = comment_json(row)
        nodes[row.id] = node
        out.append(node)
    for row in replies:  # oldest first, so a parent always comes before its replies
        parent = nodes.get(row.parent_id)
        if parent is None:
            continue
        node = comment_json(row)
        nodes[row.id] = node
        parent["replies"].append(node)
    for comment_id, kind in highlights.items():
        picked = nodes.get(comment_id)
        if picked is not None and picked["state"] == "approved":
            picked[kind] = True  # "pinned": true or "featured": true
    if staff:
        for row in (*tops, *replies):
            by_staff = nodes.get(row.id)
            if by_staff is not None and by_staff["author"] is not None and (
                    row.account_id in staff):
                by_staff["staff"] = True
    for comment_id in regulars:
        regular = nodes.get(comment_id)
        if regular is not None and regular["state"] == "approved":
            regular["regular"] = True
    for note in notes:  # context notes, under comments readers can see
        noted = nodes.get(note.comment_id)
        if noted is not None and noted["state"] == "approved":
            noted.setdefault("notes", []).append(note_json(note))
    return out


class ReadService:
    def __init__(self, db: Database, sites: SiteService, settings: Settings,
                 email_salt: str = "") -> None:
        self.db = db
        self.sites = sites
        self.settings = settings
        self.email_salt = email_salt  # authors' keys, for the "regular" badge

    def shows_regulars(self, site_id: str) -> bool:
        """Whether the site's pages mark trusted commenters: a decision that changes an
        author's trust then changes every cached page of the site."""
        return trust_settings(self.sites.settings_of(site_id).moderation).regular_badge

    def _regulars(self, conn: Any, site_id: str, trusted_after: int,
                  ids: Sequence[int]) -> set[int]:
        """The comments among ``ids`` whose authors the site trusts (moderation.trust):
        readers see a "Regular" badge on them when the site turns it on."""
        keys = {row.id: author_key_of_row(row, self.email_salt)
                for row in queries.authors_of(conn, ids)}
        histories = {row.author: History(row.approved, row.rejected, row.spam, row.notices)
                     for row in queries.author_histories(
                         conn, site_id, sorted({k for k in keys.values() if k}))}
        return {cid for cid, key in keys.items() if key in histories and trust_level(
            histories[key], trusted_after) is TrustLevel.TRUSTED}

    def page(self, req: PageRequest, origin: str | None = None) -> Page:
        """One page of a thread; an unknown thread reads as empty. A read simply runs
        again where it may: on a connection PostgreSQL closed (as the first after a
        restart can meet), it runs on a fresh one instead of failing."""
        for attempt in attempts("reading a page"):
            with attempt:
                page = self._page(req, origin)
        return page

    def _page(self, req: PageRequest, origin: str | None) -> Page:
        site = self.sites.resolve(req.site, origin)
        site_settings = self.sites.settings_of(site.id)
        try:
            key = thread_key(req.thread)
        except ThreadKeyError as exc:
            raise InvalidInput(f"thread: {exc}") from None
        if req.limit is None:
            limit: int | None = site_settings.page_size
        elif req.limit == 0:
            limit = None
        elif 1 <= req.limit <= self.settings.max_page_size:
            limit = req.limit
        else:
            raise InvalidInput(f"limit: from 1 to {self.settings.max_page_size}, or all")
        cursor = Cursor.decode(req.cursor, req.sort) if req.cursor else None
        body: dict[str, Any] = {
            "thread": None,
            "sort": req.sort.value,
            "comments": [],
            "next_cursor": None,
            "edit_window_seconds": site_settings.edit_window_seconds,
            # what the comment form needs to know before the reader types
            "max_comment_length": min(site_settings.max_comment_length,
                                      self.settings.max_comment_length),
            "email_notifications": bool(self.settings.smtp_host),
        }
        now = datetime.now(UTC)
        with self.db.read() as conn:
            thread = queries.find_thread(conn, site.id, key)
            if thread is None:
                return Page(body, site.id, key, None)
            highlights = queries.highlights_in_thread(conn, thread.id)
            pinned_ids = [cid for cid, kind in highlights.items() if kind == "pinned"]
            tops = list(
                queries.top_level_page(
                    conn, thread.id, req.sort, None if limit is None else limit + 1,
                    cursor.keyset if cursor else None, exclude=pinned_ids,
                )
            )
            more = limit is not None and len(tops) > limit
            tops = tops[:limit] if limit is not None else tops
            climbed: list[Any] = []
            if cursor is not None and cursor.since is not None:
                climbed = [
                    r for r in queries.voted_since(conn, thread.id, cursor.since, cursor.keyset)
                ]
            # Pinned comments head the first page, whatever the order; later pages skip them.
            pinned = list(queries.pinned_top_level(conn, pinned_ids)) if cursor is None else []
            shown = pinned + climbed + tops
            replies = queries.replies_of_roots(conn, [r.id for r in shown])
            notes = queries.notes_in_thread(conn, thread.id)
            trust = trust_settings(site_settings.moderation)
            regulars = self._regulars(
                conn, site.id, trust.trusted_after,
                [r.id for r in [*shown, *replies] if r.state == "approved"],
            ) if trust.regular_badge else set()
            staff = queries.staff_accounts(conn, site.id, [
                r.account_id for r in [*shown, *replies]
                if r.account_id is not None and r.state == "approved"])
        body["thread"] = thread_json(thread)
        body["comments"] = _build_tree(shown, replies, highlights, notes, regulars,
                                         staff)
        if more and tops:
            last = tops[-1]
            since = cursor.since if cursor and cursor.since else now
            voted = req.sort is SortOrder.VOTES
            body["next_cursor"] = Cursor(
                sort=req.sort,
                keyset=queries.Keyset(
                    last.created_at, last.id, queries.ranked_score(last) if voted else None
                ),
                since=since if req.sort is SortOrder.VOTES else None,
            ).encode()
        return Page(body, site.id, key, thread.id)

    def published(self, site_id: str, thread_id: int, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Comments published by another process, as its live events carry them (those
        no longer approved are left out)."""
        with self.db.read() as conn:
            rows = queries.published_comments(conn, thread_id, ids)
            staff = queries.staff_accounts(
                conn, site_id, [r.account_id for r in rows if r.account_id is not None])
            wanted = {r.id for r in rows}
            notes = [n for n in queries.notes_in_thread(conn, thread_id)
                     if n.comment_id in wanted] if wanted else []
        shown = [comment_json(r, staff=r.account_id in staff) for r in rows]
        by_id = {c["id"]: c for c in shown}
        for note in notes:  # context notes under them, as the thread's page shows them
            by_id[note.comment_id].setdefault("notes", []).append(note_json(note))
        return shown

    def add_to_page(
        self, body: dict[str, Any], req: PageRequest, new: Sequence[dict[str, Any] | None],
        origin: str | None = None,
    ) -> bool:
        """Put comments published since ``body`` was read into it, as a new read would
        show them (``None``: a change that shows on no page, such as a held comment).
        False, with ``body`` in an unknown state, when that takes more than appending:
        a later page, Most Voted, or a page that a new comment would push one off."""
        if req.cursor is not None or req.sort is SortOrder.VOTES or body.get("thread") is None:
            return False
        if body.get("next_cursor") is not None:
            return False
        site = self.sites.resolve(req.site, origin)
        if self.shows_regulars(site.id):
            return False  # whether a new comment's author is a regular takes a read
        if req.limit is None:
            limit: int | None = self.sites.settings_of(site.id).page_size
        else:
            limit = req.limit or None
        tops: list[dict[str, Any]] = body["comments"]
        nodes: dict[int, dict[str, Any]] = {}
        stack = list(tops)
        while stack:
            node = stack.pop()
            nodes[node["id"]] = node
            stack.extend(node["replies"])
        for comment in new:
            if comment is None or comment["id"] in nodes:
                continue  # held, or already read from the database
            comment = {**comment, "replies": []}
            body["thread"]["total"] += 1
            parent_id = comment["parent_id"]
            if parent_id is not None:
                parent = nodes.get(parent_id)
                if parent is not None:  # else: a reply to a comment on another page
                    parent["replies"].append(comment)
                    parent["reply_count"] += 1
                    nodes[comment["id"]] = comment
                continue
            body["thread"]["top_level"] += 1
            pinned = 0
            while pinned < len(tops) and tops[pinned].get("pinned"):
                pinned += 1
            if limit is not None and len(tops) - pinned + 1 > limit:
                return False  # the page would now need a cursor to the next
            if req.sort is SortOrder.NEWEST:
                tops.insert(pinned, comment)
            else:
                tops.append(comment)
            nodes[comment["id"]] = comment
        return True

    @staticmethod
    def votes_into_page(body: dict[str, Any], req: PageRequest,
                        counts: Sequence[tuple[int, int, int, int]]) -> bool:
        """Put comments' vote counts, (id, score, upvotes, downvotes) in the order votes
        left them, into a page read before; False for Most Voted, whose order they may
        change. A removed comment keeps showing none."""
        if req.sort is SortOrder.VOTES or body.get("thread") is None:
            return False
        by_id = {n[0]: n for n in counts}  # the last counts of each comment
        stack = list(body["comments"])
        while stack:
            node = stack.pop()
            stack.extend(node["replies"])
            found = by_id.get(node["id"])
            if found is not None and node["state"] != CommentState.DELETED.value:
                node["score"], node["upvotes"], node["downvotes"] = found[1:]
        return True

    def counts(
        self, identifiers: Sequence[str], site_id: str | None, origin: str | None
    ) -> tuple[str, dict[str, int]]:
        """(site id, {identifier as given: visible comment count})."""
        site = self.sites.resolve(site_id, origin)
        if len(identifiers) > MAX_COUNT_KEYS:
            raise InvalidInput(f"thread: at most {MAX_COUNT_KEYS} threads in one request")
        keys: dict[str, str] = {}
        for ident in identifiers:
            try:
                keys[ident] = thread_key(ident)
            except ThreadKeyError as exc:
                raise InvalidInput(f"thread: {exc}") from None
        for attempt in attempts("reading counts"):
            with attempt, self.db.read() as conn:
                found = queries.counts_for_keys(conn, site.id, sorted(set(keys.values())))
        return site.id, {ident: found.get(key, 0) for ident, key in keys.items()}


def trust_settings(moderation: dict[str, Any]) -> TrustPolicy:
    """The site's trust settings, as far as reading needs them (the policy itself was
    checked when the site's settings were saved)."""
    section = moderation.get("trust") if isinstance(moderation, dict) else None
    if not isinstance(section, dict):
        return TrustPolicy()
    default = TrustPolicy()
    line = section.get("trusted_after")
    return TrustPolicy(trusted_after=line if isinstance(line, int) else default.trusted_after,
                       regular_badge=section.get("regular_badge") is True)
