"""Atom feeds (RFC 4287) of a site's and a thread's newest approved comments."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from rostra.core.models import CommentState
from rostra.notify.hooks import comment_url
from rostra.services.serialise import iso
from rostra.store.tables import comments, threads

ATOM = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
ENTRIES = 50


def recent_comments(
    conn: Connection, site_id: str, thread_id: int | None = None, limit: int = ENTRIES
) -> list[Any]:
    """The newest approved comments of a site, or of one of its threads."""
    query = (
        select(comments.c.id, comments.c.author_name, comments.c.author_website,
               comments.c.html, comments.c.created_at, comments.c.edited_at,
               threads.c.id.label("thread_id"), threads.c.key, threads.c.url, threads.c.title)
        .join(threads, threads.c.id == comments.c.thread_id)
        .where(threads.c.site_id == site_id, comments.c.state == CommentState.APPROVED.value)
        .order_by(comments.c.created_at.desc(), comments.c.id.desc())
        .limit(limit)
    )
    if thread_id is not None:
        query = query.where(comments.c.thread_id == thread_id)
    return list(conn.execute(query).all())


# Characters XML 1.0 forbids (C0 controls but tab, newline and return; surrogates;
# U+FFFE and U+FFFF): one of them in any comment would make the whole feed unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """``value`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def _text(parent: ET.Element, tag: str, value: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = xml_safe(value)
    return element


def _link(parent: ET.Element, href: str, rel: str, type_: str | None = None) -> None:
    attrs = {"href": xml_safe(href), "rel": rel}
    if type_:
        attrs["type"] = type_
    ET.SubElement(parent, f"{{{ATOM}}}link", attrs)


def build_feed(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    page_url: str | None,
    rows: Sequence[Row[Any]],
    site_id: str,
    updated_fallback: datetime,
    anonymous: str = "Anonymous",
) -> bytes:
    """The feed document, newest entry first."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", feed_id)
    _text(feed, "title", title)
    newest = max((r.edited_at or r.created_at for r in rows), default=updated_fallback)
    _text(feed, "updated", iso(newest) or "")
    _link(feed, self_url, "self", "application/atom+xml")
    if page_url:
        _link(feed, page_url, "alternate", "text/html")
    _text(feed, "generator", "Rostra")
    for row in rows:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", f"urn:rostra:{site_id}:comment:{row.id}")
        author_name = row.author_name or anonymous
        _text(entry, "title", f"{author_name}: {row.title or row.url or row.key}"[:300])
        _text(entry, "published", iso(row.created_at) or "")
        _text(entry, "updated", iso(row.edited_at or row.created_at) or "")
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        _text(author, "name", author_name)
        if row.author_website:
            _text(author, "uri", row.author_website)
        link = comment_url(row.url, row.id)
        if link:
            _link(entry, link, "alternate", "text/html")
        _text(entry, "content", row.html, type="html")
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document
