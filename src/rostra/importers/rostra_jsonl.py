"""Rostra's own JSON Lines export, read back record by record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO

from rostra.importers.streams import utf8_lines
from rostra.services.exporting import (
    FORMAT,
    READABLE_VERSIONS,
    VERSION,
    RostraRecord,
    record_from_object,
)
from rostra.services.import_records import ImportFormatError


def read_rostra(source: IO[bytes]) -> Iterator[RostraRecord]:
    """Records after checking the header; any bad line stops with its number."""
    header_seen = False
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
                    f"Rostra export version {obj.get('version')!r}; this server reads {VERSION}",
                    line=lineno,
                )
            header_seen = True
            continue
        try:
            yield record_from_object(obj)
        except (ValueError, TypeError) as exc:
            raise ImportFormatError(str(exc), line=lineno, element=str(obj.get("type"))) from None
    if not header_seen:
        raise ImportFormatError("the file is empty")
