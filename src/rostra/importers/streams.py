"""Reading an export's bytes. Damage found while reading (a gzip file cut short or
corrupt, a byte that is not UTF-8) stops the import with the line it was met on, like any
other bad input, instead of an error without a place (or click's bare "Aborted!", which
is what an EOFError becomes)."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from typing import IO

from rostra.services.import_records import ImportFormatError

# What reading a damaged gzip file raises: EOFError when it is cut short,
# gzip.BadGzipFile for a bad header or checksum, zlib.error for corrupt data.
DAMAGED = (EOFError, gzip.BadGzipFile, zlib.error)


def damaged(exc: BaseException, line: int, offset: int) -> ImportFormatError:
    """The error for damage met after ``offset`` bytes of data, on line ``line``."""
    if isinstance(exc, EOFError):
        what = "the compressed file is cut short: it ends before its data does"
    else:
        what = f"the compressed file is damaged ({exc})"
    return ImportFormatError(f"{what}, after byte {offset:,} of the data", line=line)


def utf8_lines(source: IO[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line of a UTF-8 file; ImportFormatError on a byte that
    is not UTF-8 (with its line and byte offset) or on a damaged gzip file."""
    lineno = offset = 0
    while True:
        try:
            raw = source.readline()
        except DAMAGED as exc:
            raise damaged(exc, lineno + 1, offset) from None
        if not raw:
            return
        lineno += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"not UTF-8: byte 0x{raw[exc.start]:02x} at byte {offset + exc.start:,} of "
                "the data (save the file as UTF-8)",
                line=lineno, column=exc.start + 1,
            ) from None
        offset += len(raw)
        yield lineno, text


class CountingReader:
    """A binary stream handed to a parser: counts the lines and bytes read, so damage to
    the file is reported with the line it was met on."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.line = 1
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._source.read(size)
        except DAMAGED as exc:
            raise damaged(exc, self.line, self.offset) from None
        self.line += data.count(b"\n")
        self.offset += len(data)
        return data
