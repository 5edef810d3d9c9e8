"""A cached page brought up to date with the comments posted since it was read: a new
comment goes under the pinned one and a reply under its parent, a page that fills up is
read again (so that it gets a cursor to the next), a reply to a comment on another page
only counts (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import LiveServer, Reader


def _ids(page: dict[str, Any]) -> list[int]:
    return [c["id"] for c in page["comments"]]


def _posted(reader: Reader, thread: str, text: str, parent_id: int | None = None) -> int:
    response = reader.post(thread, text, parent_id)
    assert response.status_code == 201, response.text
    return int(response.json()["comment"]["id"])


def test_a_new_comment_goes_under_the_pinned_one(server: LiveServer, ana: Reader,
                                                 ben: Reader) -> None:
    from rostra.services.workspace import PinKind

    first = _posted(ana, "/pinned/", "The editor's note, pinned")
    second = _posted(ben, "/pinned/", "An early reply")
    server.app.app.state.admin.workspace.pin(first, PinKind.PINNED, actor="editor")
    time.sleep(server.settings.cache_poll_seconds * 3)  # every worker has heard of the pin
    assert _ids(ana.page("/pinned/")) == [first, second]
    third = _posted(ben, "/pinned/", "A later comment")
    page = ana.page("/pinned/")
    assert _ids(page) == [first, third, second]
    assert page["comments"][0]["pinned"] is True
    assert (page["thread"]["total"], page["thread"]["top_level"]) == (3, 3)
    reply = _posted(ana, "/pinned/", "A reply to the later comment", parent_id=third)
    page = ana.page("/pinned/")
    assert [r["id"] for r in page["comments"][1]["replies"]] == [reply]
    assert page["comments"][1]["reply_count"] == 1
    assert (page["thread"]["total"], page["thread"]["top_level"]) == (4, 3)


def test_a_page_that_fills_up_gets_its_cursor_to_the_next(server: LiveServer,
                                                          ana: Reader) -> None:
    ids = [_posted(ana, "/full/", f"Comment {n}") for n in range(2)]
    first = ana.page("/full/", limit=3)
    assert _ids(first) == ids[::-1] and first["next_cursor"] is None
    ids += [_posted(ana, "/full/", f"Comment {n}") for n in (2, 3)]
    page = ana.page("/full/", limit=3)
    assert _ids(page) == ids[:0:-1]
    assert page["next_cursor"] is not None
    assert _ids(ana.page("/full/", limit=3, cursor=page["next_cursor"])) == [ids[0]]


def test_a_reply_to_a_comment_on_another_page_only_counts(server: LiveServer, ana: Reader,
                                                          ben: Reader) -> None:
    older = _posted(ana, "/paged/", "On the second page")
    newer = _posted(ana, "/paged/", "On the first page")
    first = ana.page("/paged/", limit=1)
    assert _ids(first) == [newer] and first["next_cursor"] is not None
    reply = _posted(ben, "/paged/", "A reply on the second page", parent_id=older)
    again = ana.page("/paged/", limit=1)
    assert _ids(again) == [newer] and again["comments"][0]["replies"] == []
    assert again["thread"]["total"] == 3
    second = ana.page("/paged/", limit=1, cursor=again["next_cursor"])
    assert [r["id"] for r in second["comments"][0]["replies"]] == [reply]
