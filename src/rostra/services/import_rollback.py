"""Undoing an import run: delete what it created, then the run itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    String,
    and_,
    cast,
    delete,
    exists,
    select,
    union,
    update,
)
from sqlalchemy.engine import Connection

from rostra.services.import_linking import THREAD_CHUNK, recounted
from rostra.store import changes
from rostra.store.account_tables import reader_accounts
from rostra.store.bulk import chunks
from rostra.store.changes import Change, ChangeKind
from rostra.store.db import Database, attempts
from rostra.store.dsa_tables import dsa_notices, dsa_statements
from rostra.store.import_tables import import_items, import_runs, questions
from rostra.store.moderation_tables import author_stats, bans, flags
from rostra.store.notes_tables import comment_notes, note_ratings
from rostra.store.notify_tables import (
    notify_addresses,
    notify_refusals,
    notify_subscription_comments,
    notify_subscriptions,
)
from rostra.store.staff_tables import comment_pins, comment_revisions
from rostra.store.tables import comments, sites, thread_aliases, threads, votes


def rollback_run(db: Database, run_id: int) -> None:
    """Delete what an import run created, then the run itself, in one transaction; the
    threads it leaves standing that showed what it deleted are counted again and stamped
    changed, so that caches and open pages drop it."""
    # Deleting what the run made is done once however often it runs: it runs again
    # after a deadlock or a lost connection, even one lost at COMMIT.
    for attempt in attempts("undoing an import", idempotent=True):
        with attempt, db.write() as conn:
            _undo(conn, run_id)


def _undo(conn: Connection, run_id: int) -> None:
    def made(kind: str) -> ColumnElement[bool]:
        return and_(import_items.c.run_id == run_id, import_items.c.kind == kind,
                    import_items.c.created.is_(True))

    touched = _threads_touched(conn, made)
    conn.execute(delete(dsa_statements).where(dsa_statements.c.id.in_(
        select(import_items.c.target_id).where(made("dsa_statement")))))
    conn.execute(delete(dsa_notices).where(dsa_notices.c.id.in_(
        select(import_items.c.target_id).where(made("dsa_notice")))))
    conn.execute(delete(comment_pins).where(comment_pins.c.comment_id.in_(
        select(import_items.c.target_id).where(made("pin")))))
    conn.execute(delete(comment_revisions).where(comment_revisions.c.id.in_(
        select(import_items.c.target_id).where(made("revision")))))
    conn.execute(delete(bans).where(bans.c.id.in_(
        select(import_items.c.target_id).where(made("ban")))))
    conn.execute(delete(flags).where(exists(select(import_items.c.target_id).where(
        made("flag"), import_items.c.target_id == flags.c.comment_id,
        import_items.c.target_key == flags.c.reader))))
    conn.execute(delete(author_stats).where(exists(select(import_items.c.target_id).where(
        made("author_stat"), import_items.c.target_key == author_stats.c.author,
        import_items.c.source_id == author_stats.c.site_id + "|" + author_stats.c.author))))
    conn.execute(delete(notify_subscription_comments).where(exists(
        select(import_items.c.target_id).where(
            made("sub_comment"),
            import_items.c.target_id == notify_subscription_comments.c.subscription_id,
            import_items.c.target_key
            == cast(notify_subscription_comments.c.comment_id, String)))))
    conn.execute(delete(notify_refusals).where(exists(select(import_items.c.target_id).where(
        made("notify_refusal"), import_items.c.target_id == notify_refusals.c.address_id,
        import_items.c.target_key == notify_refusals.c.site_id))))
    conn.execute(delete(notify_subscriptions).where(notify_subscriptions.c.id.in_(
        select(import_items.c.target_id).where(made("subscription")))))
    conn.execute(delete(notify_addresses).where(notify_addresses.c.id.in_(
        select(import_items.c.target_id).where(made("address")))))
    conn.execute(delete(note_ratings).where(exists(select(import_items.c.target_id).where(
        made("note_rating"), import_items.c.target_id == note_ratings.c.note_id,
        import_items.c.target_key == cast(note_ratings.c.account_id, String)))))
    conn.execute(delete(comment_notes).where(comment_notes.c.id.in_(
        select(import_items.c.target_id).where(made("note")))))
    conn.execute(delete(reader_accounts).where(reader_accounts.c.id.in_(
        select(import_items.c.target_id).where(made("reader_account")))))
    conn.execute(delete(votes).where(exists(select(import_items.c.target_id).where(
        made("vote"), import_items.c.target_id == votes.c.comment_id,
        import_items.c.target_key == votes.c.voter))))
    conn.execute(delete(questions).where(exists(select(import_items.c.target_id).where(
        made("question"), import_items.c.target_id == questions.c.thread_id,
        import_items.c.target_key == questions.c.question_id))))
    conn.execute(delete(thread_aliases).where(exists(select(import_items.c.target_id).where(
        made("alias"), import_items.c.target_id == thread_aliases.c.thread_id,
        import_items.c.target_key == thread_aliases.c.key))))
    # Replies first would not matter (parent_id cascades), but it keeps SQLite's
    # cascade work small: drop the parent links of this run's comments before deleting.
    run_comments = select(import_items.c.target_id).where(made("comment"))
    conn.execute(update(comments).where(comments.c.id.in_(run_comments))
                 .values(parent_id=None))
    conn.execute(delete(comments).where(comments.c.id.in_(run_comments)))
    conn.execute(delete(threads).where(
        threads.c.id.in_(select(import_items.c.target_id).where(made("thread")))))
    now = datetime.now(UTC)
    for chunk in chunks([t.id for t in touched], THREAD_CHUNK):
        conn.execute(update(threads).where(threads.c.id.in_(list(chunk))).values(recounted(now)))
    for t in touched:
        changes.record(conn, Change(ChangeKind.THREAD, t.site_id, t.key, t.id, now))
    run = conn.execute(select(import_runs).where(import_runs.c.id == run_id)).first()
    made_sites = [r.target_key for r in conn.execute(
        select(import_items.c.target_key).where(made("site")))]
    if run is not None and run.site_created:
        made_sites.append(run.site_id)
    conn.execute(delete(import_items).where(import_items.c.run_id == run_id))
    conn.execute(delete(import_runs).where(import_runs.c.id == run_id))
    if made_sites:
        conn.execute(delete(sites).where(sites.c.id.in_(made_sites)))


def _threads_touched(
    conn: Connection, made: Callable[[str], ColumnElement[bool]]
) -> list[Row[Any]]:
    """The threads that hold what the run made and readers see (comments, context notes
    on comments, aliases), less those it created (which go with it): what a server may
    have cached of them shows what the rollback deletes."""
    run = import_items.c.target_id
    holding = union(
        select(comments.c.thread_id).where(comments.c.id.in_(select(run).where(
            made("comment")))),
        select(comments.c.thread_id)
        .join(comment_notes, comment_notes.c.comment_id == comments.c.id)
        .where(comment_notes.c.id.in_(select(run).where(made("note")))),
        select(run).where(made("alias")),
    )
    return list(conn.execute(
        select(threads.c.id, threads.c.site_id, threads.c.key)
        .where(threads.c.id.in_(holding),
               threads.c.id.not_in(select(run).where(made("thread"))))
        .order_by(threads.c.id)
    ))
