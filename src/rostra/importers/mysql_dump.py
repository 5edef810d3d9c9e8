"""Rows of chosen tables from a MySQL dump, read without executing any SQL.

Only ``CREATE TABLE`` (for the column order) and ``INSERT INTO`` statements of the
wanted tables are looked at; everything else is passed over. Values are tokenised by a
regular expression that knows MySQL's string escapes; nothing is ever evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from rostra.services.import_records import ImportFormatError

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^'\\]|\\.|'')*')
    | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<ident>`(?:[^`]|``)*`)
    | (?P<punct>[(),;])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
_ESCAPE = re.compile(r"\\(.)|''", re.DOTALL)
_CREATE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`([^`]+)`", re.IGNORECASE)
_COLUMN = re.compile(r"^\s*`([^`]+)`\s")
_INSERT = re.compile(r"^\s*(?:INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\s+`([^`]+)`", re.IGNORECASE)

SqlValue = str | int | float | None


@dataclass(frozen=True, slots=True)
class DumpRow:
    """One row of a wanted table: its name suffix, the line its statement starts on,
    and its values by column."""

    table: str
    line: int
    values: Mapping[str, SqlValue]


def _unescape(quoted: str) -> str:
    body = quoted[1:-1]

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "''":
            return "'"
        ch = m.group(1)
        return _ESCAPES.get(ch, ch)

    return _ESCAPE.sub(one, body)


def _table_suffix(name: str, suffixes: Sequence[str]) -> str | None:
    for suffix in suffixes:
        if name == suffix or name.endswith("_" + suffix) or name.endswith(suffix):
            return suffix
    return None


def read_rows(
    source: IO[str], suffixes: Sequence[str], default_columns: Mapping[str, Sequence[str]]
) -> Iterator[DumpRow]:
    """Rows of every table whose name ends with one of ``suffixes`` (any prefix, e.g.
    ``wp_``); raises ImportFormatError naming the line of a statement it cannot read."""
    columns: dict[str, list[str]] = {k: list(v) for k, v in default_columns.items()}
    lineno = 0
    creating: str | None = None
    created: list[str] = []
    statement: list[str] = []
    statement_line = 0
    table = ""
    for line in source:
        lineno += 1
        if creating is not None:
            m = _COLUMN.match(line)
            if m:
                created.append(m.group(1))
            elif line.lstrip().startswith(")"):
                columns[creating] = created
                creating = None
            continue
        if not statement:
            m = _CREATE.match(line)
            if m:
                suffix = _table_suffix(m.group(1), suffixes)
                if suffix is not None:
                    creating, created = suffix, []
                continue
            m = _INSERT.match(line)
            if not m:
                continue
            suffix = _table_suffix(m.group(1), suffixes)
            if suffix is None:
                continue
            table, statement_line = suffix, lineno
        statement.append(line)
        if not line.rstrip().endswith(";"):
            continue
        text = "".join(statement)
        try:
            rows = list(_parse_insert(text, columns.get(table, [])))
        except _Unfinished:
            continue  # a ';' inside a string: read on
        except ValueError as exc:
            raise ImportFormatError(
                f"cannot read INSERT statement: {exc}", line=statement_line, element=table
            ) from None
        statement = []
        for values in rows:
            yield DumpRow(table, statement_line, values)
    if statement:
        raise ImportFormatError(
            "INSERT statement does not end", line=statement_line, element=table
        )


class _Unfinished(Exception):
    pass


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    pos = 0
    end = len(text)
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            rest = text[pos:].strip()
            if not rest:
                return
            if rest.startswith("'"):
                raise _Unfinished
            raise ValueError(f"unexpected text {rest[:30]!r}")
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        yield kind, m.group(kind)


def _parse_insert(text: str, columns: Sequence[str]) -> Iterator[dict[str, SqlValue]]:
    tokens = list(_tokens(text))
    i = 0
    # INSERT [IGNORE] INTO `name`
    while i < len(tokens) and tokens[i][0] != "ident":
        i += 1
    i += 1
    names = list(columns)
    if i < len(tokens) and tokens[i] == ("punct", "("):
        names = []
        i += 1
        while tokens[i] != ("punct", ")"):
            if tokens[i] == ("punct", ";"):  # the statement's last token
                raise ValueError("the column list does not end")
            if tokens[i][0] == "ident":
                names.append(tokens[i][1][1:-1].replace("``", "`"))
            i += 1
        i += 1
    if i >= len(tokens) or tokens[i][1].upper() != "VALUES":
        raise ValueError("VALUES expected")
    i += 1
    if not names:
        raise ValueError("no column names (no CREATE TABLE before and no column list)")
    while i < len(tokens):
        if tokens[i] != ("punct", "("):
            raise ValueError(f"'(' expected, found {tokens[i][1]!r}")
        i += 1
        values: list[SqlValue] = []
        while True:
            kind, tok = tokens[i]
            if kind == "str":
                values.append(_unescape(tok))
            elif kind == "num":
                values.append(float(tok) if any(c in tok for c in ".eE") else int(tok))
            elif kind == "word" and tok.upper() == "NULL":
                values.append(None)
            else:
                raise ValueError(f"value expected, found {tok!r}")
            i += 1
            if tokens[i] == ("punct", ","):
                i += 1
                continue
            if tokens[i] == ("punct", ")"):
                i += 1
                break
            raise ValueError(f"',' or ')' expected, found {tokens[i][1]!r}")
        if len(values) != len(names):
            raise ValueError(f"{len(values)} values for {len(names)} columns")
        yield dict(zip(names, values, strict=True))
        if tokens[i] == ("punct", ","):
            i += 1
            continue
        if tokens[i] == ("punct", ";"):
            return
        raise ValueError(f"',' or ';' expected, found {tokens[i][1]!r}")
