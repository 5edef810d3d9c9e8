"""Streaming XML that refuses DTDs (so no entity expansion, no external entities) and
reports every problem with its line, column and element."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import IO

from lxml import etree

from rostra.importers.streams import CountingReader
from rostra.services.import_records import ImportFormatError

_POSITION_SUFFIX = re.compile(r",? line \d+, column \d+$")


@lru_cache(maxsize=512)
def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


def element_name(elem: etree._Element) -> str:
    """The name as the file writes it, with its prefix (``wp:comment``)."""
    tag = elem.tag
    if not isinstance(tag, str):
        return "?"
    name = local_name(tag)
    return f"{elem.prefix}:{name}" if elem.prefix else name


def child_texts(elem: etree._Element) -> dict[str, str]:
    """Local name -> text of each direct child (the last wins); tail whitespace ignored."""
    out: dict[str, str] = {}
    for child in elem:
        tag = child.tag
        if tag.__class__ is str:  # comments and processing instructions have no str tag
            out[local_name(tag)] = child.text or ""
    return out


def fail(elem: etree._Element, message: str) -> ImportFormatError:
    """An error at ``elem`` (its line; lxml does not keep columns of elements)."""
    return ImportFormatError(message, line=elem.sourceline, element=element_name(elem))


def iterparse(
    source: IO[bytes], tags: Sequence[str] | None = None, *, root: str | None = None,
    not_root: str = "",
) -> Iterator[tuple[str, etree._Element]]:
    """("start" | "end", element) events, only for ``tags`` when given (``{*}item``:
    fewer events, faster); stops with ImportFormatError on malformed XML or on any DTD,
    and with ``not_root`` at the root element when its local name is not ``root`` (also
    when the file holds none of ``tags``: another system's export has none of ours).
    The caller clears elements it is done with."""
    # lxml keeps the last errors per thread, and a file without a root element adds none
    # of its own: without this, its error would name the fault of a file read before.
    etree.clear_error_log()
    parser_events = etree.iterparse(
        CountingReader(source),
        events=("start", "end"),
        tag=list(tags) if tags else None,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )
    wanted = {local_name(tag) for tag in tags} if tags else None
    first: etree._Element | None = None
    try:
        for event, elem in parser_events:
            if first is None:
                first = elem
                info = elem.getroottree().docinfo
                if info.doctype or info.internalDTD is not None:
                    raise ImportFormatError(
                        "a DOCTYPE is not allowed (entity expansion and external entities "
                        "are refused)",
                        line=max(1, (elem.sourceline or 2) - 1),
                        element="!DOCTYPE",
                    )
                _check_root(elem.getroottree().getroot(), root, not_root)
            yield event, elem
        if first is None:
            _check_root(parser_events.root, root, not_root)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        message = (exc.msg or str(exc)).strip()
        last = exc.error_log.last_error
        if last is not None and last.line > 0:
            # The log names the first real fault; the exception's own text can be a
            # later consequence ("no element found" at 0:0).
            line, column, message = last.line, last.column, last.message.strip()
        message = _POSITION_SUFFIX.sub("", message)
        if "entity" in message.lower():
            message = f"entities are refused: {message}"
        raise ImportFormatError(
            f"malformed XML: {message}",
            line=line,
            column=column,
            element=_open_element(first, wanted),
        ) from None


def _check_root(elem: etree._Element | None, name: str | None, message: str) -> None:
    if elem is not None and name is not None and local_name(str(elem.tag)) != name:
        raise fail(elem, message)


def _open_element(seen: etree._Element | None, wanted: set[str] | None) -> str | None:
    """The name of the innermost element open where parsing stopped (of ``wanted`` names
    when given). lxml hands out events a chunk at a time, so the failing element may not
    have been yielded yet; the tree it was building holds it all the same, at the end of
    the chain of last children (finished elements are released by the caller)."""
    if seen is None:
        return None
    elem: etree._Element | None = seen.getroottree().getroot()
    found: str | None = None
    while elem is not None:
        tag = elem.tag
        if isinstance(tag, str) and (wanted is None or local_name(tag) in wanted):
            found = element_name(elem)
        elem = elem[-1] if len(elem) else None
    return found


def release(elem: etree._Element) -> None:
    """Free a finished element and drop it from its parent (bounded memory)."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        parent.remove(elem)
