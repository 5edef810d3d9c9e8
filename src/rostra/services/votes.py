"""Votes: up, down, changed or taken back; one per voter per comment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from rostra.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from rostra.core.models import CommentState
from rostra.core.thread_keys import ThreadKeyError, thread_key
from rostra.services.comments import CommentEvent, CommentService, EventKind, RequestContext
from rostra.store import changes, queries
from rostra.store.db import attempts
from rostra.store.tables import comments, threads, votes


@dataclass(frozen=True, slots=True)
class VoteResult:
    score: int
    upvotes: int
    downvotes: int
    vote: int
    voter_token: str | None  # set when the reader got a new voter id with this vote


class VoteService:
    def __init__(self, comments_service: CommentService) -> None:
        self.comments = comments_service
        self.db = comments_service.db
        self.sites = comments_service.sites
        self.tokens = comments_service.tokens

    def _account(self, site_id: str, ctx: RequestContext) -> int | None:
        """The reader's account: signed in through the site, or given by the caller."""
        reader = self.comments.accounts.reader(site_id, ctx.sso, ctx.session)
        return reader.id if reader is not None else ctx.account_id

    def _voter(self, ctx: RequestContext, account_id: int | None) -> tuple[str, str | None, bool]:
        """(voter key, new voter token or None, is a fresh voter). An account votes once
        however many browsers it uses."""
        if account_id is not None:
            return f"a:{account_id}", None, False
        voter_id = self.tokens.voter_id(ctx.voter_token)
        if voter_id is not None:
            return f"v:{voter_id}", None, False
        voter_id, token = self.tokens.new_voter()
        return f"v:{voter_id}", token, True

    def vote(self, comment_id: int, value: int, ctx: RequestContext) -> VoteResult:
        """Set this reader's vote on a comment to ``value`` (1, -1, or 0 to take it back)."""
        if isinstance(value, bool) or value not in (-1, 0, 1):
            raise InvalidInput("value: must be 1 (up), -1 (down) or 0 (take the vote back)")
        row = self.comments._load(comment_id)
        if row.state != CommentState.APPROVED.value:
            raise NotFound(f"no comment with id {comment_id}")
        thread = self.comments._thread_of(row)
        site = self.sites.get(thread.site_id)
        self.sites.check_origin(site, ctx.origin)
        account_id = self._account(site.id, ctx)
        voter, new_token, fresh = self._voter(ctx, account_id)
        author_voter = f"v:{row.voter_id}" if row.voter_id else None
        if (
            voter == author_voter
            or (account_id is not None and account_id == row.account_id)
            or self.tokens.proves_author(ctx.edit_token, comment_id)
        ):
            raise Forbidden("you cannot vote on your own comment", code="own_comment")
        ip_hash = self.comments.ip_hash(ctx.ip)
        # Setting a vote to a value is the same done once or twice, so a try whose
        # COMMIT lost its connection runs again too (it finds the vote as it left it).
        for attempt in attempts("a vote", idempotent=True):
            with attempt:
                counts, changed = self._record(comment_id, voter, value, fresh, ip_hash,
                                               thread)
        if changed:
            self.comments._notify([CommentEvent(
                EventKind.EDITED, comment_id, row.thread_id, thread.site_id, thread.key,
                row.parent_id, CommentState.APPROVED, CommentState.APPROVED, "vote",
                votes=counts,
            )])
        return VoteResult(*counts, value, new_token)

    def _record(
        self, comment_id: int, voter: str, value: int, fresh: bool, ip_hash: str | None,
        thread: Any,
    ) -> tuple[tuple[int, int, int], bool]:
        """The vote's transaction: (score, upvotes, downvotes) after it, and whether it
        changed anything."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            # FOR NO KEY UPDATE: orders votes on the comment without waiting for a reply
            # being stored (its foreign key holds the comment FOR KEY SHARE).
            current = conn.execute(
                select(comments.c.score, comments.c.upvotes, comments.c.downvotes)
                .where(comments.c.id == comment_id)
                .with_for_update(key_share=True)
            ).first()
            if current is None:
                raise NotFound(f"no comment with id {comment_id}")
            old = conn.scalar(
                select(votes.c.value).where(
                    and_(votes.c.comment_id == comment_id, votes.c.voter == voter)
                )
            )
            old = int(old or 0)
            if value == old:
                return (current.score, current.upvotes, current.downvotes), False
            if fresh and ip_hash and value != 0:
                # A reader who dropped their voter id to vote again from the same network.
                seen = conn.scalar(
                    select(votes.c.voter).where(
                        votes.c.comment_id == comment_id, votes.c.ip_hash == ip_hash,
                        votes.c.voter != voter,
                    ).limit(1)
                )
                if seen is not None:
                    raise Conflict(
                        "a vote on this comment came from your network already",
                        code="already_voted",
                    )
            if old == 0:
                conn.execute(
                    insert(votes).values(
                        comment_id=comment_id, voter=voter, value=value, ip_hash=ip_hash,
                        created_at=now,
                    )
                )
            elif value == 0:
                conn.execute(
                    delete(votes).where(votes.c.comment_id == comment_id, votes.c.voter == voter)
                )
            else:
                conn.execute(
                    update(votes)
                    .where(votes.c.comment_id == comment_id, votes.c.voter == voter)
                    .values(value=value, created_at=now)
                )
            up = int(value == 1) - int(old == 1)
            down = int(value == -1) - int(old == -1)
            result = conn.execute(
                update(comments)
                .where(comments.c.id == comment_id)
                .values(
                    upvotes=comments.c.upvotes + up,
                    downvotes=comments.c.downvotes + down,
                    score=comments.c.score + (value - old),
                    voted_at=now,
                )
                .returning(comments.c.score, comments.c.upvotes, comments.c.downvotes)
            ).one()
            if conn.dialect.name == "sqlite":  # writers take turns: this is the stamp
                changes.note_stamp_before(conn, thread.id, conn.scalar(
                    select(threads.c.updated_at).where(threads.c.id == thread.id)))
            # The thread's row was read above: its change goes with the commit (one round
            # trip on PostgreSQL), with the new counts, which open pages show.
            queries.bump_read_thread(conn, thread, now)
            changes.record_votes(conn, thread.id, comment_id, result.score, result.upvotes,
                                 result.downvotes)
        return (result.score, result.upvotes, result.downvotes), True

    def my_votes(
        self, site_id: str | None, thread: str, ctx: RequestContext
    ) -> dict[int, int]:
        site = self.sites.resolve(site_id, ctx.origin)
        voter_id = self.tokens.voter_id(ctx.voter_token)
        account_id = self._account(site.id, ctx)
        if account_id is not None:
            voter = f"a:{account_id}"
        elif voter_id is not None:
            voter = f"v:{voter_id}"
        else:
            return {}
        try:
            key = thread_key(thread)
        except ThreadKeyError as exc:
            raise InvalidInput(f"thread: {exc}") from None
        with self.db.read() as conn:
            row = queries.find_thread(conn, site.id, key)
            if row is None:
                return {}
            return queries.votes_in_thread(conn, row.id, voter)
