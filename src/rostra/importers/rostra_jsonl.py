"""Rostra's own JSON Lines export, read back record by record."""

from __future__ import annotations

import json
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


def read_rostra(source: IO[bytes]) -> Iterator[RostraRecord]:
    """Records after checking the header; any bad line stops with its number, and so does
    a file of version 6 or later that does not end with its end line (cut short)."""
    header_seen = False
    version: object = None
    records = 0
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
        records += 1
        yield record
    if not header_seen:
        raise ImportFormatError("the file is empty")
    if not ended_at and isinstance(version, int) and version >= ENDED_FROM_VERSION:
        raise ImportFormatError(
            f"the file ends without its end line, after {records:,} records: it was cut "
            "short (export it again, or copy it whole)", line=lineno)
