"""Remark42 backups: a line of metadata, then one JSON comment a line (gzipped or not)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from rostra.core.markup import render
from rostra.core.models import CommentState
from rostra.core.thread_keys import http_url
from rostra.importers.common import clean_html, key_for
from rostra.importers.streams import utf8_lines
from rostra.services.import_records import (
    ImportedComment,
    ImportedThread,
    ImportedVote,
    ImportFormatError,
    ImportItem,
    Notice,
    Skipped,
)


def _time(value: Any, line: int, what: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ImportFormatError(f"{what} is not a date: {str(value)[:40]!r}", line=line) from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


NO_SUBSCRIPTIONS = (
    "a Remark42 backup does not hold readers' email subscriptions: readers subscribe again"
)


def read_remark42(source: IO[bytes]) -> Iterator[ImportItem]:
    """Threads as their URLs first appear, comments, and each reader's vote."""
    seen: set[str] = set()
    read_only: set[str] = set()  # keys of posts closed to new comments
    for lineno, line in utf8_lines(source):
        if not line.strip():
            continue
        try:
            obj = json.loads(line.rstrip("\r\n"))  # a cut line's error is at its end
        except json.JSONDecodeError as exc:
            raise ImportFormatError(
                f"not JSON: {exc.msg}", line=lineno, column=exc.colno
            ) from None
        if not isinstance(obj, dict):
            raise ImportFormatError("a line is not a JSON object", line=lineno)
        if lineno == 1 and "version" in obj and "id" not in obj:
            if obj.get("version") not in (0, 1):
                raise ImportFormatError(
                    f"unknown Remark42 backup version {obj.get('version')!r}", line=1
                )
            read_only = _read_only(obj.get("posts"))
            continue
        yield from _comment(obj, lineno, seen, read_only)
    yield Notice(NO_SUBSCRIPTIONS)


def _read_only(posts: Any) -> set[str]:
    """Keys of the metadata's posts marked ``read_only`` (closed to new comments)."""
    found: set[str] = set()
    for post in posts if isinstance(posts, list) else ():
        if isinstance(post, dict) and post.get("read_only") is True:
            key = key_for(str(post.get("url") or ""))
            if key is not None:
                found.add(key)
    return found


def _comment(
    obj: dict[str, Any], lineno: int, seen: set[str], read_only: set[str]
) -> Iterator[ImportItem]:
    cid = str(obj.get("id") or "").strip()
    locator = obj.get("locator") or {}
    url = str(locator.get("url") or "").strip() if isinstance(locator, dict) else ""
    if not cid:
        raise ImportFormatError("a comment has no id", line=lineno, element="id")
    key = key_for(url)
    if key is None:
        yield Skipped("comment without a page URL", cid, kind="comment")
        return
    created = _time(obj.get("time"), lineno, "time") or datetime.now(UTC)
    if url not in seen:
        seen.add(url)
        yield ImportedThread(
            source_id=url, key=key, url=http_url(url), title=(obj.get("title") or None),
            created_at=created, closed=key in read_only,
        )
    user = obj.get("user") or {}
    votes = obj.get("votes") or {}
    up = sum(1 for v in votes.values() if v is True)
    down = sum(1 for v in votes.values() if v is False)
    if not votes:
        score = int(obj.get("score") or 0)
        up, down = (score, 0) if score >= 0 else (0, -score)
    orig = obj.get("orig")
    text = str(orig if orig is not None else obj.get("text") or "")
    # Without `orig` (comments Remark42 imported itself) `text` is the HTML readers saw.
    rendered = render(text) if orig is not None else clean_html(text)
    deleted = bool(obj.get("delete"))
    edit = obj.get("edit") or {}
    yield ImportedComment(
        source_id=cid,
        thread_source_id=url,
        parent_source_id=str(obj.get("pid") or "").strip() or None,
        state=CommentState.DELETED if deleted else CommentState.APPROVED,
        text=text,
        html=rendered,
        created_at=created,
        edited_at=_time(edit.get("time"), lineno, "edit.time") if isinstance(edit, dict) else None,
        author_name=str(user.get("name") or "").strip() or None,
        author_email=str(user.get("email") or "").strip() or None,
        author_website=None,
        upvotes=up,
        downvotes=down,
    )
    for voter, value in votes.items():
        yield ImportedVote(
            comment_source_id=cid, voter=f"x:r42:{voter}"[:80], value=1 if value else -1,
            created_at=created,
        )
