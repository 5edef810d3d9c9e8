"""Rostra's own JSON Lines export, read back record by record."""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from typing import IO

from rostra.importers.streams import utf8_lines
from rostra.services.exporting import (
    END,
    ENDED_FROM_VERSION,
    FORMAT,
    READABLE_VERSIONS,
    VERSION,
    RostraRecord,
    record_from_object,
)
from rostra.services.import_records import ImportFormatError

# What each record type names, (field, what it names), and what a record of each type
# is named by (its id): a record may name only what the file has before it (the order
# of the format puts every such row first). A reply's parent may come after it (a reply
# an import from another system wrote before its parent has the lower id): the reply
# waits for it, and a file that ends with replies still waiting is refused.
_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "reader_account": (("site_id", "site"),),
    "thread": (("site_id", "site"),),
    "alias": (("site_id", "site"), ("thread_id", "thread")),
    "question": (("thread_id", "thread"),),
    "comment": (("thread_id", "thread"),),
    "vote": (("comment_id", "comment"),),
    "subscription": (("address_id", "address"), ("site_id", "site")),
    "subscription_comment": (("subscription_id", "subscription"), ("comment_id", "comment")),
    "note": (("comment_id", "comment"), ("site_id", "site")),
    "note_rating": (("note_id", "note"),),
    "dsa_notice": (("site_id", "site"), ("comment_id", "comment")),
    "dsa_statement": (("site_id", "site"), ("comment_id", "comment")),
    "pin": (("comment_id", "comment"), ("site_id", "site")),
    "revision": (("comment_id", "comment"),),
    "ban": (("site_id", "site"),),
    "flag": (("comment_id", "comment"),),
    "author_stat": (("site_id", "site"),),
}
_NAMED = frozenset({"site", "thread", "comment", "address", "subscription", "note"})


class _Ids:
    """Ids seen so far, 8 bytes each while they come in order (as the format writes
    them), a set for the rest."""

    def __init__(self) -> None:
        self._sorted = array("q")
        self._others: set[object] = set()

    def add(self, value: object) -> None:
        if type(value) is int and (not self._sorted or value > self._sorted[-1]):
            self._sorted.append(value)
        else:
            self._others.add(value)

    def __contains__(self, value: object) -> bool:
        if value in self._others:
            return True
        if type(value) is not int:
            return False
        at = bisect_left(self._sorted, value)
        return at < len(self._sorted) and self._sorted[at] == value


class _References:
    """Refuses a record naming a site, thread, comment, … the file does not have before
    it: written, it would fail on the database's foreign keys, or hang on another row."""

    def __init__(self) -> None:
        self._seen = {kind: _Ids() for kind in _NAMED}
        # Replies whose parent has not come yet: parent -> its replies, and each waiting
        # reply's line. A reply counts as the file's only once its parent has come (it
        # is restored with it), so nothing may name it before.
        self._waiting: dict[object, list[object]] = {}
        self._waiting_lines: dict[object, int] = {}

    def check(self, kind: str, obj: dict[str, object], line: int) -> None:
        for name, named in _NAMES.get(kind, ()):
            value = obj.get(name)
            if value is not None and value not in self._seen[named]:
                self._missing(kind, name, named, value, line)
        parent, own = obj.get("parent_id"), obj.get("id")
        if kind == "comment" and parent is not None and parent not in self._seen["comment"]:
            later = isinstance(parent, int) and isinstance(own, int) and parent > own
            if not later and parent not in self._waiting_lines:
                self._missing(kind, "parent_id", "comment", parent, line)
            self._waiting.setdefault(parent, []).append(own)
            self._waiting_lines[own] = line
            return
        if kind in _NAMED:
            self._seen[kind].add(own)
        if kind == "comment":
            self._release(own)

    def _release(self, parent: object) -> None:
        """The replies waiting for ``parent`` (and theirs) are the file's now."""
        ready = [parent]
        while ready:
            for reply in self._waiting.pop(ready.pop(), ()):
                self._seen["comment"].add(reply)
                del self._waiting_lines[reply]
                ready.append(reply)

    def finish(self) -> None:
        """Refuse a file that ended with a reply still waiting for its parent."""
        if not self._waiting_lines:
            return
        reply, line = min(self._waiting_lines.items(), key=lambda item: item[1])
        parent = next(p for p, replies in self._waiting.items() if reply in replies)
        raise ImportFormatError(
            f"parent_id names comment {parent!r}, which the file does not have (or has "
            "only under this reply: a loop of parents); edited or damaged: nothing of it "
            "is written", line=line, element="comment")

    @staticmethod
    def _missing(kind: str, name: str, named: str, value: object, line: int) -> None:
        raise ImportFormatError(
            f"{name} names {named} {value!r}, which the file does not have before this "
            "line (edited or damaged): nothing of it is written", line=line, element=kind)


def read_rostra(source: IO[bytes]) -> Iterator[RostraRecord]:
    """Records after checking the header; any bad line stops with its number, and so does
    a file of version 6 or later that does not end with its end line (cut short)."""
    header_seen = False
    version: object = None
    records = 0
    references = _References()
    ended_at = 0
    lineno = 0
    for lineno, line in utf8_lines(source):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(f"not JSON: {exc.msg}", line=lineno, column=exc.colno) from None
        if not isinstance(obj, dict):
            raise ImportFormatError("a line is not a JSON object", line=lineno)
        if not header_seen:
            if obj.get("type") != "header" or obj.get("format") != FORMAT:
                raise ImportFormatError("not a Rostra export: the first line is no header",
                                        line=lineno)
            if obj.get("version") not in READABLE_VERSIONS:
                raise ImportFormatError(
                    f"Rostra export version {obj.get('version')!r}; this server reads versions "
                    f"{min(READABLE_VERSIONS)} to {VERSION}",
                    line=lineno,
                )
            header_seen = True
            version = obj.get("version")
            continue
        if ended_at:
            raise ImportFormatError(f"a line after the end line (line {ended_at})",
                                    line=lineno)
        if obj.get("type") == END:
            if obj.get("records") != records:
                raise ImportFormatError(
                    f"the end line counts {obj.get('records')!r} records, the file has "
                    f"{records} before it: lines are missing or were added", line=lineno)
            ended_at = lineno
            continue
        try:
            record = record_from_object(obj)
        except (ValueError, TypeError) as exc:
            raise ImportFormatError(str(exc), line=lineno, element=str(obj.get("type"))) from None
        references.check(record.TYPE, obj, lineno)
        records += 1
        yield record
    if not header_seen:
        raise ImportFormatError("the file is empty")
    if not ended_at and isinstance(version, int) and version >= ENDED_FROM_VERSION:
        raise ImportFormatError(
            f"the file ends without its end line, after {records:,} records: it was cut "
            "short (export it again, or copy it whole)", line=lineno)
    references.finish()
