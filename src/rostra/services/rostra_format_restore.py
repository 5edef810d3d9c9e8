"""Restoring Rostra's own format (the JSON Lines export, rostra.services.exporting): how
each record type's rows are written, kept when already there, and checked to be the
file's own rows. The import engine (rostra.services.importing) hands it each batch's
records of that format, inside the batch's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Table, insert, select, tuple_

from rostra.core.thread_keys import http_url
from rostra.moderation.identity import email_key
from rostra.services.exporting import (
    FROM_ADDRESS,
    AddressRecord,
    AliasRecord,
    CommentRecord,
    ImportItemRecord,
    NoteRatingRecord,
    NoteRecord,
    QuestionRecord,
    ReaderAccountRecord,
    RefusalRecord,
    RostraRecord,
    SiteRecord,
    SubscriptionCommentRecord,
    SubscriptionRecord,
    ThreadRecord,
    VoteRecord,
)
from rostra.services.import_records import ImportConflict, ImportFormatError, ImportSummary
from rostra.services.moderators_work_records import (
    EMAIL_KEY_PREFIX,
    AuthorStatRecord,
    BanRecord,
    DsaNoticeRecord,
    DsaStatementRecord,
    FlagRecord,
    PinRecord,
    RevisionRecord,
    with_author_key,
)
from rostra.services.sites import claim_origins
from rostra.store import changes
from rostra.store.account_tables import reader_accounts
from rostra.store.bulk import chunks, insert_many
from rostra.store.changes import Change, ChangeKind
from rostra.store.import_tables import import_items
from rostra.store.notify_tables import notify_addresses, notify_subscriptions
from rostra.store.tables import comments, sites, threads

# Writes import_items rows of the run (the engine's bookkeeping of what it made).
Remember = Callable[[Connection, list[dict[str, Any]]], None]
# Which source ids of a kind an earlier restore (any run) made: source id -> target id.
Recalled = Callable[[Connection, str, list[str]], dict[str, int]]


@dataclass(frozen=True, slots=True)
class _Restore:
    """How rows of one record type of the Rostra format are restored."""

    key: tuple[str, ...]  # the fields that find the row (a row already there is kept)
    target: str  # the field import_items.target_id keeps (what a rollback removes), or ""
    target_key: str | None = None  # and import_items.target_key, where the id is not enough
    counter: str = ""  # the summary's count of rows made
    site_scoped: bool = False  # has a site_id, which --site S replaces
    kind: str = ""  # import_items.kind where the type's name is too long (16 characters)
    # Fields a row already there must share with the file's to be the same row.
    same: tuple[str, ...] = ()

    def key_of(self, record: Any) -> tuple[Any, ...]:
        return tuple(getattr(record, name) for name in self.key)


# Every record type but sites and the bookkeeping, in the order their rows are written.
_RESTORE: dict[type[Any], _Restore] = {
    ReaderAccountRecord: _Restore(("id",), "id", counter="accounts_created",
                                  site_scoped=True, same=("site_id", "subject")),
    ThreadRecord: _Restore(("id",), "id", counter="threads_created", site_scoped=True,
                           same=("site_id", "key")),
    AliasRecord: _Restore(("site_id", "key"), "thread_id", "key", "aliases_created",
                          site_scoped=True, same=("thread_id",)),
    QuestionRecord: _Restore(("thread_id", "question_id"), "thread_id", "question_id",
                             "questions_created"),
    CommentRecord: _Restore(("id",), "id", counter="comments_created",
                            same=("thread_id", "parent_id")),
    VoteRecord: _Restore(("comment_id", "voter"), "comment_id", "voter", "votes_created"),
    AddressRecord: _Restore(("id",), "id", counter="addresses_created", same=("email",)),
    SubscriptionRecord: _Restore(("id",), "id", counter="subscriptions_created",
                                 site_scoped=True, same=("address_id", "site_id")),
    SubscriptionCommentRecord: _Restore(("subscription_id", "comment_id"), "subscription_id",
                                        "comment_id", kind="sub_comment"),
    RefusalRecord: _Restore(("address_id", "site_id"), "address_id", "site_id",
                            site_scoped=True, kind="notify_refusal"),
    NoteRecord: _Restore(("id",), "id", counter="notes_created", site_scoped=True,
                         same=("comment_id",)),
    NoteRatingRecord: _Restore(("note_id", "account_id"), "note_id", "account_id"),
    DsaNoticeRecord: _Restore(("id",), "id", site_scoped=True, same=("site_id", "comment_id")),
    DsaStatementRecord: _Restore(("id",), "id", site_scoped=True,
                                 same=("site_id", "comment_id")),
    PinRecord: _Restore(("comment_id",), "comment_id", counter="pins_created",
                        site_scoped=True, same=("site_id",)),
    RevisionRecord: _Restore(("id",), "id", same=("comment_id",)),
    BanRecord: _Restore(("id",), "id", counter="bans_created", site_scoped=True,
                        same=("site_id",)),
    FlagRecord: _Restore(("comment_id", "reader"), "comment_id", "reader", "flags_created"),
    AuthorStatRecord: _Restore(("site_id", "author"), "", "author", "authors_created",
                               site_scoped=True),
}
# The fields each record type's table keeps unique besides its key: two records of a
# file (or of two sites put on one with --site) sharing them are refused before a write.
_UNIQUE: dict[type[Any], tuple[str, ...]] = {
    ReaderAccountRecord: ("site_id", "subject"),
    ThreadRecord: ("site_id", "key"),
    AddressRecord: ("email",),
    SubscriptionRecord: ("address_id", "site_id", "thread_key", "kind"),
}
# An author's reputation under an email key the file could not name: made with the old
# database's salt, it can never match here.
EMAIL_KEY = "e:"  # rostra.moderation.identity.email_key
UNKEYED_AUTHOR = ("author reputation under an address this file does not name "
                  "(erased, or never written here): it cannot be keyed again")


def _source_id(key: tuple[Any, ...]) -> str:
    """import_items.source_id of a restored row: its key's fields, joined."""
    return "|".join(str(part) for part in key)


class RostraRestore:
    """Writes the records of Rostra's format for one import run: onto the sites they name,
    or all onto ``site_id`` (``--site``); ``origins`` are added to each site's."""

    def __init__(self, *, site_id: str | None, origins: Sequence[str], summary: ImportSummary,
                 remember: Remember, recall: Recalled) -> None:
        self.site_id = site_id
        self.origins = origins
        self.summary = summary
        self._remember = remember
        self._recall = recall
        # The salt of this database's email keys (set before the first batch): a ban on
        # an address is keyed with it again.
        self.email_salt = ""
        # Origins for sites that were there already: added as the run finishes, so that
        # a run that fails leaves their allowlists as they were.
        self.origins_to_add: dict[str, set[str]] = {}
        # Comments held back until their parent is written: parent id -> its replies (a
        # reply an import from another system listed before its parent has the lower id).
        self.held: dict[int, list[CommentRecord]] = {}

    def write_rows(self, conn: Connection, groups: dict[type, list[Any]]) -> None:
        """Write the records of every type but sites and the bookkeeping, taking them
        out of ``groups``, in the order their rows must be written."""
        for cls in _RESTORE:
            records = groups.pop(cls, [])
            if records:
                self._write_records(conn, cls, records)

    def write_site(self, conn: Connection, record: SiteRecord) -> None:
        """Make the site with ``origins`` unless it is there; if it is, note them for the
        end of the run (``origins_to_add``)."""
        site_id = self.site_id or record.id
        row = conn.execute(select(sites.c.origins).where(sites.c.id == site_id)).first()
        if row is not None:
            gained = sorted(set(self.origins) - set(row.origins or ()))
            if gained:
                claim_origins(conn, gained, [site_id])  # refused now rather than at the end
                self.origins_to_add.setdefault(site_id, set()).update(gained)
            self.summary.already_imported += 1
            return
        origins = sorted(set(record.origins) | set(self.origins))
        claim_origins(conn, origins, [site_id])
        conn.execute(insert(sites), {
            "id": site_id, "name": record.name,
            "origins": origins,
            "settings": record.settings, "created_at": record.created_at,
        })
        self._remember(conn, [{"kind": "site", "source_id": site_id, "target_id": 0,
                               "target_key": site_id}])
        self.summary.sites_created += 1

    def _write_records(
        self, conn: Connection, cls: type[RostraRecord], records: list[Any]
    ) -> None:
        table: Table = cls.TABLE
        how = _RESTORE[cls]
        if cls is CommentRecord:
            records = self._parents_first(conn, records)
        if how.site_scoped and self.site_id is not None:
            records = [replace(r, site_id=self.site_id) for r in records]
        if cls is ThreadRecord:
            # A thread's link is restored only as an http(s) URL: a file (or the server
            # it came from, by an import before this check) may hold a javascript: one.
            records = [replace(r, url=http_url(r.url)) for r in records]
        if cls is BanRecord:
            records = [with_author_key(r, self._author_key) for r in records]
            for site_id in sorted({r.site_id for r in records}):
                changes.record(conn, Change(ChangeKind.BANS, site_id))  # servers reload
        if cls is AuthorStatRecord:
            kept: list[Any] = [with_author_key(r, self._author_key) for r in records
                    if not r.author.startswith(EMAIL_KEY)]
            if len(kept) < len(records):
                self.summary.skipped[UNKEYED_AUTHOR] += len(records) - len(kept)
            records = kept
            for r in records:  # servers read these authors' histories again
                changes.record(conn, Change(ChangeKind.HISTORY, r.site_id, r.author))
        keys = [how.key_of(r) for r in records]
        present = self._present(conn, cls, keys)
        present |= self._made_before(conn, cls, [k for k in keys if k not in present])
        if how.same and present:
            self._check_same_rows(
                conn, cls, [r for r, key in zip(records, keys, strict=True) if key in present])
        fresh = []
        for record, key in zip(records, keys, strict=True):
            if key in present:
                self.summary.already_imported += 1
            else:
                present.add(key)
                fresh.append(record)
        if not fresh:
            return
        if cls in _UNIQUE:
            self._check_twice_in_file(cls, fresh)
        if cls is ThreadRecord:
            self._check_thread_keys(conn, fresh)
        if cls is AddressRecord:
            self._check_emails(conn, fresh)
        if cls is ReaderAccountRecord:
            self._check_subjects(conn, fresh)
        if cls is SubscriptionRecord:
            self._check_subscriptions(conn, fresh)
            fresh = self._confirmations(conn, fresh)
        rows = [{f: getattr(r, f) for f in r.__dataclass_fields__} for r in fresh]
        conn.execute(insert(table), rows)
        self._remember(conn, [
            {"kind": how.kind or cls.TYPE,
             "source_id": _source_id(how.key_of(r)),
             "target_id": int(getattr(r, how.target)) if how.target else 0,
             "target_key": None if how.target_key is None else str(getattr(r, how.target_key))}
            for r in fresh
        ])
        if how.counter:
            setattr(self.summary, how.counter, getattr(self.summary, how.counter) + len(fresh))

    def _parents_first(self, conn: Connection, records: list[CommentRecord]
                       ) -> list[CommentRecord]:
        """The batch's comments, and those held back for a parent among them, each after
        its parent; a comment whose parent is neither in the database nor among them is
        held back (``held``) until a batch brings its parent."""
        ids = {r.id for r in records}
        outside = sorted({r.parent_id for r in records
                          if r.parent_id is not None and r.parent_id not in ids})
        written: set[int] = set()
        for chunk in chunks(outside):
            written.update(int(i) for i in conn.scalars(
                select(comments.c.id).where(comments.c.id.in_(list(chunk)))))
        ordered: list[CommentRecord] = []
        for record in records:
            if record.parent_id is not None and record.parent_id not in written:
                self.held.setdefault(record.parent_id, []).append(record)
                continue
            ready = [record]
            while ready:
                comment = ready.pop()
                ordered.append(comment)
                written.add(comment.id)
                ready.extend(reversed(self.held.pop(comment.id, [])))
        return ordered

    def check_nothing_held(self) -> None:
        """Refuse the run when a comment still waits for its parent (the reader refuses
        such a file at its end; this keeps a half-linked tree from being kept)."""
        if self.held:
            parent = min(self.held)
            raise ImportFormatError(
                f"comment {self.held[parent][0].id} names parent_id {parent}, which the file "
                "does not have: nothing of it is written", element="comment")

    def _author_key(self, key: str) -> str:
        """A key as this database makes it: an address the file names becomes its key."""
        if key.startswith(EMAIL_KEY_PREFIX) and self.email_salt:
            return email_key(key[len(EMAIL_KEY_PREFIX):], self.email_salt)
        return key

    def write_bookkeeping(self, conn: Connection, records: list[ImportItemRecord],
                          run_id: int) -> None:
        """Restore what imports from other systems made of their items (after the rows
        they name: a file lists them last), so that importing a newer export of that
        system adds only what is new. Kept as this run's, but not as made by it."""
        if not records:
            return
        if self.site_id is not None:
            records = [replace(r, site_id=self.site_id,
                               target_key=self.site_id if r.kind == "site" else r.target_key)
                       for r in records]
        pk = (import_items.c.site_id, import_items.c.source, import_items.c.kind,
              import_items.c.source_id)
        fresh: dict[tuple[str, str, str, str], ImportItemRecord] = {}
        for chunk in chunks(records):
            keys = [(r.site_id, r.source, r.kind, r.source_id) for r in chunk]
            present = {tuple(row) for row in conn.execute(
                select(*pk).where(tuple_(*pk).in_(keys)))}
            for key, record in zip(keys, chunk, strict=True):
                if key not in present:
                    fresh[key] = record
        if fresh:
            insert_many(conn, import_items, [
                {"site_id": r.site_id, "source": r.source, "kind": r.kind,
                 "source_id": r.source_id, "target_id": r.target_id,
                 "target_key": r.target_key, "parent_source_id": r.parent_source_id,
                 "run_id": run_id, "created": False}
                for r in fresh.values()])

    def _made_before(self, conn: Connection, cls: type[RostraRecord],
                     keys: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
        """Keys of rows an earlier restore made that are gone since (a vote its reader
        took back, a pin staff removed): restoring the file again passes over them, as
        it passes over the rows still there, rather than making them again."""
        if not keys:
            return set()
        by_source_id = {_source_id(key): key for key in keys}
        made = self._recall(conn, _RESTORE[cls].kind or cls.TYPE, list(by_source_id))
        return {by_source_id[source_id] for source_id in made}

    def _present(
        self, conn: Connection, cls: type[RostraRecord], keys: list[tuple[Any, ...]]
    ) -> set[tuple[Any, ...]]:
        table: Table = cls.TABLE
        key_columns = [table.c[name] for name in _RESTORE[cls].key]
        present: set[tuple[Any, ...]] = set()
        for chunk in chunks(keys):
            if len(key_columns) == 1:
                condition = key_columns[0].in_([k[0] for k in chunk])
            else:
                condition = tuple_(*key_columns).in_(list(chunk))
            present.update(tuple(row) for row in conn.execute(select(*key_columns).where(condition)))
        return present

    def _check_thread_keys(self, conn: Connection, records: list[ThreadRecord]) -> None:
        for r in records:
            other = conn.execute(
                select(threads.c.id).where(threads.c.site_id == r.site_id, threads.c.key == r.key)
            ).first()
            if other is not None:
                raise ImportConflict(
                    f"thread {r.key!r} of site {r.site_id!r} exists with id {other.id}, the file "
                    f"has it as {r.id}{self._merged()}: import a Rostra export into an empty "
                    "database"
                )

    def _merged(self) -> str:
        """Why two sites' rows can meet on one: --site."""
        if self.site_id is None:
            return ""
        return f" (--site {self.site_id} puts every site of the file on it)"

    def _check_twice_in_file(self, cls: type[RostraRecord], records: list[Any]) -> None:
        """Two new rows of one batch may not share what their table keeps unique (a
        thread's key on its site, an address's email…); rows of earlier batches are in
        the database, where the checks below find them."""
        fields = _UNIQUE[cls]
        first: dict[tuple[Any, ...], Any] = {}
        for record in records:
            unique = tuple(getattr(record, name) for name in fields)
            other = first.setdefault(unique, record)
            if other is not record:
                described = ", ".join(f"{name} {value!r}"
                                      for name, value in zip(fields, unique, strict=True))
                merged = self._merged() if "site_id" in fields else ""
                raise ImportConflict(
                    f"{cls.TYPE} {other.id} and {cls.TYPE} {record.id} of the file both have "
                    f"{described}{merged}: a site can have only one; nothing of the file "
                    "is written")

    def _check_subscriptions(self, conn: Connection, records: list[SubscriptionRecord]) -> None:
        fields = _UNIQUE[SubscriptionRecord]
        columns = [notify_subscriptions.c[name] for name in fields]
        for chunk in chunks(records):
            wanted = {tuple(getattr(r, name) for name in fields): r.id for r in chunk}
            for row in conn.execute(select(notify_subscriptions.c.id, *columns)
                                    .where(tuple_(*columns).in_(list(wanted)))):
                theirs = wanted[tuple(row[1:])]
                raise ImportConflict(
                    f"subscription of address {row.address_id} to {row.kind} of "
                    f"{row.thread_key!r} on site {row.site_id!r} exists with id {row.id}, the "
                    f"file has it as {theirs}{self._merged()}: import a Rostra export into an "
                    "empty database")

    @staticmethod
    def _confirmations(
        conn: Connection, records: list[SubscriptionRecord]
    ) -> list[SubscriptionRecord]:
        """Subscriptions of a file before version 5 were confirmed with their address:
        each takes its address's confirmation (written before them, or there already)."""
        older = sorted({r.address_id for r in records if r.confirmed_at == FROM_ADDRESS})
        if not older:
            return records
        confirmed: dict[int, Any] = {}
        for chunk in chunks(older):
            confirmed.update((int(row.id), row.confirmed_at) for row in conn.execute(
                select(notify_addresses.c.id, notify_addresses.c.confirmed_at)
                .where(notify_addresses.c.id.in_(list(chunk)))))
        return [replace(r, confirmed_at=confirmed.get(r.address_id))
                if r.confirmed_at == FROM_ADDRESS else r for r in records]

    def _check_emails(self, conn: Connection, records: list[AddressRecord]) -> None:
        for chunk in chunks(records):
            by_email = {r.email: r.id for r in chunk}
            for row in conn.execute(
                select(notify_addresses.c.id, notify_addresses.c.email)
                .where(notify_addresses.c.email.in_(list(by_email)))
            ):
                raise ImportConflict(
                    f"address {row.email!r} exists with id {row.id}, the file has it as "
                    f"{by_email[row.email]}: import a Rostra export into an empty database"
                )

    def _check_subjects(self, conn: Connection, records: list[ReaderAccountRecord]) -> None:
        for r in records:
            other = conn.execute(select(reader_accounts.c.id).where(
                reader_accounts.c.site_id == r.site_id,
                reader_accounts.c.subject == r.subject)).first()
            if other is not None:
                raise ImportConflict(
                    f"reader account {r.subject!r} of site {r.site_id!r} exists with id "
                    f"{other.id}, the file has it as {r.id}{self._merged()}: import a Rostra "
                    "export into an empty database")

    def _check_same_rows(self, conn: Connection, cls: type[RostraRecord],
                         records: list[Any]) -> None:
        """A row the database has already (same id or key) must be the file's row: the
        same file imported again. Passing over another row with that id would hang the
        file's replies, votes or comments on it (another thread, another reader)."""
        how, table = _RESTORE[cls], cls.TABLE
        key_columns = [table.c[name] for name in how.key]
        for chunk in chunks(records):
            keys = [how.key_of(r) for r in chunk]
            condition = (key_columns[0].in_([k[0] for k in keys]) if len(key_columns) == 1
                         else tuple_(*key_columns).in_(keys))
            here = {tuple(row[:len(key_columns)]): tuple(row[len(key_columns):])
                    for row in conn.execute(select(*key_columns, *[
                        table.c[name] for name in how.same]).where(condition))}
            for record, key in zip(chunk, keys, strict=True):
                theirs = tuple(getattr(record, name) for name in how.same)
                ours = here.get(key, theirs)
                if ours != theirs:
                    described = ", ".join(f"{name} {value!r}"
                                          for name, value in zip(how.same, ours, strict=True))
                    raise ImportConflict(
                        f"{cls.TYPE} {'/'.join(str(k) for k in key)} exists here with "
                        f"{described}, the file has another: import a Rostra export into an "
                        f"empty database")
