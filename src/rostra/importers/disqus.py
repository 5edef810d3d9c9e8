"""Disqus XML exports: threads (link, title, identifier) and posts with their parents."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import datetime
from typing import IO

from lxml import etree

from rostra.core.models import CommentState
from rostra.core.thread_keys import http_url
from rostra.importers.common import clean_html, key_for, parse_naive_utc, truthy
from rostra.importers.safe_xml import child_texts, fail, iterparse, local_name, release
from rostra.services.import_records import (
    ImportedComment,
    ImportedThread,
    ImportItem,
    Notice,
    Skipped,
)

INTERNALS = "{http://disqus.com/disqus-internals}id"


def _dsq_id(elem: etree._Element) -> str:
    return (elem.get(INTERNALS) or "").strip()


def _child(elem: etree._Element, name: str) -> etree._Element | None:
    for child in elem:
        if isinstance(child.tag, str) and local_name(child.tag) == name:
            return child
    return None


def _date(elem: etree._Element, value: str, what: str) -> datetime | None:
    try:
        return parse_naive_utc(value)
    except ValueError:
        raise fail(elem, f"{what}: createdAt is not an ISO 8601 date: {value[:40]!r}") from None


def _thread(elem: etree._Element) -> ImportedThread | Skipped:
    source_id = _dsq_id(elem)
    if not source_id:
        raise fail(elem, "a thread has no dsq:id")
    fields = child_texts(elem)
    if truthy(fields.get("isDeleted")):
        return Skipped("deleted thread", source_id)
    identifier = fields.get("id", "").strip()
    link = fields.get("link", "").strip()
    # Pages are matched by link; the identifier stays reachable as an alias.
    key = key_for(link, identifier)
    if key is None:
        return Skipped("thread without a usable link or identifier", source_id)
    alias = key_for(identifier)
    return ImportedThread(
        source_id=source_id,
        key=key,
        url=http_url(link),
        title=html.unescape(fields.get("title", "")).strip() or None,
        created_at=_date(elem, fields.get("createdAt", ""), f"thread {source_id}"),
        closed=truthy(fields.get("isClosed")),
        aliases=(alias,) if alias and alias != key else (),
    )


def _post(elem: etree._Element) -> ImportedComment:
    source_id = _dsq_id(elem)
    if not source_id:
        raise fail(elem, "a post has no dsq:id")
    fields = child_texts(elem)
    thread = _child(elem, "thread")
    thread_id = _dsq_id(thread) if thread is not None else ""
    if not thread_id:
        raise fail(elem, f"post {source_id} names no thread")
    parent = _child(elem, "parent")
    author = _child(elem, "author")
    who = child_texts(author) if author is not None else {}
    created = _date(elem, fields.get("createdAt", ""), f"post {source_id}")
    if created is None:
        raise fail(elem, f"post {source_id} has no createdAt")
    if truthy(fields.get("isSpam")):
        state = CommentState.SPAM
    elif truthy(fields.get("isDeleted")):
        state = CommentState.DELETED
    else:
        state = CommentState.APPROVED
    # Whitespace around the CDATA is the file's layout (reformatted exports indent it).
    message = fields.get("message", "").strip()
    return ImportedComment(
        source_id=source_id,
        thread_source_id=thread_id,
        parent_source_id=(_dsq_id(parent) or None) if parent is not None else None,
        state=state,
        text=message,
        html=clean_html(message),
        created_at=created,
        author_name=(who.get("name") or who.get("username") or "").strip() or None,
        author_email=who.get("email", "").strip() or None,
        ip=fields.get("ipAddress", "").strip() or None,
    )


NO_SUBSCRIPTIONS = (
    "a Disqus export does not hold who subscribed to threads: readers subscribe again"
)


def read_disqus(source: IO[bytes]) -> Iterator[ImportItem]:
    """Threads, then posts, as the file lists them (Disqus writes threads first)."""
    root: etree._Element | None = None
    deleted: set[str] = set()
    for event, elem in iterparse(source):
        if event == "start":
            if root is None:
                root = elem
                if local_name(str(elem.tag)) != "disqus":
                    raise fail(elem, "not a Disqus export: the root element is not <disqus>")
            continue
        if elem.getparent() is not root or root is None:
            continue
        name = local_name(str(elem.tag))
        if name == "thread":
            item = _thread(elem)
            if isinstance(item, Skipped) and item.reason == "deleted thread":
                deleted.add(item.source_id)
            yield item
        elif name == "post":
            post = _post(elem)
            if post.thread_source_id in deleted:
                yield Skipped("comment on a deleted thread", post.source_id, kind="comment")
            else:
                yield post
        release(elem)
    # An empty file never gets here: the parser refuses a document without a root element.
    yield Notice(NO_SUBSCRIPTIONS)
