"""Atom (RFC 4287) and RSS 2.0 feeds of a site's and a thread's newest approved
comments, written by feedgen."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from html import escape
from typing import Any

from feedgen.feed import FeedGenerator
from sqlalchemy import Connection, Row, select

from rostra.core.models import CommentState
from rostra.core.thread_keys import public_website
from rostra.notify.model import comment_url
from rostra.store import queries
from rostra.store.notes_tables import comment_notes
from rostra.store.tables import comments, threads

ENTRIES = 50


class FeedKind(StrEnum):
    ATOM = "atom"
    RSS = "rss"


CONTENT_TYPES = {
    FeedKind.ATOM: "application/atom+xml; charset=utf-8",
    FeedKind.RSS: "application/rss+xml; charset=utf-8",
}
# feedgen writes RSS dates after switching the process's locale to C and back
# (feedgen.util.formatRFC2822); setlocale is not thread-safe, and feeds are built on
# the server's worker threads, so RSS documents are written one at a time.
_RSS_LOCALE = threading.Lock()


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


def notes_of(conn: Connection, comment_ids: Sequence[int]) -> dict[int, list[Any]]:
    """{comment id: the context notes readers see under it}, for a feed's comments."""
    if not comment_ids:
        return {}
    out: dict[int, list[Any]] = {}
    for note in conn.execute(
        select(comment_notes.c.comment_id, comment_notes.c.html, comment_notes.c.sources,
               comment_notes.c.staff_author)
        .where(comment_notes.c.comment_id.in_(list(comment_ids)),
               comment_notes.c.shown.is_(True))
        .order_by(comment_notes.c.id)
    ):
        out.setdefault(note.comment_id, []).append(note)
    return out


def with_notes(html: str, notes: Sequence[Any]) -> str:
    """A comment's HTML followed by its context notes, as feed readers show it."""
    parts = [html]
    for note in notes:
        by = "added by the editors" if note.staff_author else "rated helpful by readers"
        links = "".join(
            f'<li><a href="{escape(url, quote=True)}">{escape(url)}</a></li>'
            for url in note.sources or [] if url.startswith(("https://", "http://")))
        parts.append(f"<aside><p><strong>Context</strong> ({by})</p>{note.html}"
                     + (f"<ul>{links}</ul>" if links else "") + "</aside>")
    return "".join(parts)


def thread_comments(conn: Connection, site_id: str, key: str) -> tuple[Any, list[Any]]:
    """(the thread with ``key``, or None; its newest approved comments)."""
    thread = queries.find_thread(conn, site_id, key)
    return thread, (recent_comments(conn, site_id, thread.id) if thread is not None else [])


# Characters XML 1.0 forbids (C0 controls but tab, newline and return; surrogates;
# U+FFFE and U+FFFF): one of them in any comment would make the whole feed unreadable
# (lxml, under feedgen, refuses them outright).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """``value`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


def build_feed(
    *,
    kind: FeedKind,
    feed_id: str,
    title: str,
    self_url: str,
    page_url: str,
    rows: Sequence[Row[Any]],
    site_id: str,
    updated_fallback: datetime,
    anonymous: str = "Anonymous",
    notes: Mapping[int, Sequence[Any]] | None = None,
) -> bytes:
    """The feed document, newest entry first. ``page_url`` is the page the feed is
    about (the thread's page, or the site's home)."""
    feed = FeedGenerator()
    # RSS's <author> is an email address, which is never published: the name goes in
    # Dublin Core's dc:creator instead.
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(xml_safe(feed_id))
    feed.title(xml_safe(title))
    feed.description(xml_safe(f"Newest comments: {title}"))
    feed.updated(max((r.edited_at or r.created_at for r in rows), default=updated_fallback))
    feed.link(href=xml_safe(self_url), rel="self", type=CONTENT_TYPES[kind].partition(";")[0])
    feed.link(href=xml_safe(page_url), rel="alternate", type="text/html")
    feed.generator("Rostra")
    for row in rows:
        author_name = xml_safe(row.author_name or anonymous)
        entry = feed.add_entry(order="append")
        entry.id(xml_safe(f"urn:rostra:{site_id}:comment:{row.id}"))
        entry.title(xml_safe(f"{author_name}: {row.title or row.url or row.key}"[:300]))
        entry.published(row.created_at)
        entry.updated(row.edited_at or row.created_at)
        website = public_website(row.author_website)
        if website:
            entry.author(name=author_name, uri=xml_safe(website))
        else:
            entry.author(name=author_name)
        entry.dc.dc_creator(author_name)
        link = comment_url(row.url, row.id)
        if link:
            entry.link(href=xml_safe(link), rel="alternate", type="text/html")
        entry.content(xml_safe(with_notes(row.html, (notes or {}).get(row.id, ()))),
                      type="html")
    if kind is FeedKind.RSS:
        with _RSS_LOCALE:
            rss: bytes = feed.rss_str()
        return rss
    atom: bytes = feed.atom_str()
    return atom
