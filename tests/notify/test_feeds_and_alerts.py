"""Atom and RSS feeds (parsed as XML, checked against RFC 4287 and RSS 2.0) and moderator
alerts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy import insert

from rostra.core.models import CommentState
from rostra.notify import alerts
from rostra.services.notes import NoteDraft, NoteService, NoteStatus
from rostra.store.moderation_tables import flags
from tests.notify.conftest import NotifyServer, address, parts

A = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


def _feed(http: httpx.Client, url: str, **params: str) -> ET.Element:
    response = http.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{A}feed"
    # RFC 4287: a feed has exactly one id, title and updated; so has every entry,
    # and an entry without a feed-level author needs its own.
    for tag in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{tag}")) == 1, tag
    for entry in root.findall(f"{A}entry"):
        for tag in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{tag}")) == 1, tag
        assert entry.find(f"{A}author/{A}name") is not None
        datetime.fromisoformat(entry.findtext(f"{A}updated", ""))
    return root


def test_it_publishes_approved_comments_as_atom_feeds(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    ben = notify.reader(http, site, "Ben")
    ben.post("/feed-a/", "First *story* comment", title="Story A",
             url="https://news.example/feed-a/")
    ben.post("/feed-b/", "On another story")
    notify.holds.sites.add(site)
    ben.post("/feed-a/", "Held back")
    notify.holds.sites.discard(site)

    root = _feed(http, f"/feeds/{site}.atom")
    entries = root.findall(f"{A}entry")
    assert [e.findtext(f"{A}content") for e in entries] == [
        "<p>On another story</p>", "<p>First <em>story</em> comment</p>"]
    assert root.find(f"{A}link[@rel='self']") is not None

    thread = _feed(http, f"/feeds/{site}/thread.atom", thread="https://news.example/feed-a/")
    [entry] = thread.findall(f"{A}entry")
    assert entry.find(f"{A}link").get("href").startswith("https://news.example/feed-a#comment-")
    assert "Story A" in (thread.findtext(f"{A}title") or "")
    assert http.get(f"/feeds/{site}/thread.atom", params={"thread": "/none/"}).status_code == 404
    assert http.get("/feeds/no-such-site.atom").status_code == 404


def _rss(http: httpx.Client, url: str, **params: str) -> ET.Element:
    response = http.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/rss+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    [channel] = root.findall("channel")
    # RSS 2.0: a channel has a title, a link and a description; an item a title or a
    # description.
    for tag in ("title", "link", "description"):
        assert (channel.findtext(tag) or "").strip(), tag
    for item in channel.findall("item"):
        assert item.findtext("title") and item.findtext("description")
        parsedate_to_datetime(item.findtext("pubDate", ""))
        assert item.find("author") is None  # RSS authors are email addresses: never
    return channel


def test_it_publishes_approved_comments_as_rss_feeds(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    ben = notify.reader(http, site, "Ben")
    first = ben.post("/rss-a/", "First *story* comment", title="Story A",
                     url="https://news.example/rss-a/", email="ben@readers.example")
    ben.post("/rss-b/", "On another story")
    notify.holds.sites.add(site)
    ben.post("/rss-a/", "Held back")
    notify.holds.sites.discard(site)

    channel = _rss(http, f"/feeds/{site}.rss")
    items = channel.findall("item")
    assert [i.findtext("description") for i in items] == [
        "<p>On another story</p>", "<p>First <em>story</em> comment</p>"]
    assert [i.findtext(f"{DC}creator") for i in items] == ["Ben", "Ben"]
    assert channel.find(f"{A}link[@rel='self']").get("href").endswith(f"/feeds/{site}.rss")
    comment_id = first.json()["comment"]["id"]
    guid = items[1].find("guid")
    assert guid.text == f"urn:rostra:{site}:comment:{comment_id}"
    assert guid.get("isPermaLink") == "false"
    assert "readers.example" not in ET.tostring(channel, encoding="unicode")

    thread = _rss(http, f"/feeds/{site}/thread.rss", thread="https://news.example/rss-a/")
    [item] = thread.findall("item")
    assert item.findtext("link") == f"https://news.example/rss-a#comment-{comment_id}"
    assert "Story A" in (thread.findtext("title") or "")
    assert thread.findtext("link") == "https://news.example/rss-a"
    assert http.get(f"/feeds/{site}/thread.rss", params={"thread": "/none/"}).status_code == 404
    assert http.get("/feeds/no-such-site.rss").status_code == 404


def test_it_alerts_moderators_of_held_and_flagged_comments(
    notify: NotifyServer, http: httpx.Client
) -> None:
    now_mod, digest_mod = address(), address()
    site = notify.new_site(notifications={"moderator_emails": [now_mod]})
    digest_site = notify.new_site(notifications={
        "moderator_emails": [digest_mod], "moderator_digest": True,
        "moderator_digest_seconds": 600})
    notify.holds.sites.update({site, digest_site})
    worker = notify.worker()
    notify.run(worker.run_once(now=datetime.now(UTC) + timedelta(hours=3)))

    held = notify.reader(http, site, "Ben").post("/mod/", "Please check me").json()
    for text in ("One", "Two"):
        notify.reader(http, digest_site, "Cy").post("/mod/", f"Digest {text}")
    notify.run(worker.run_once())
    [alert] = notify.mailbox.to(now_mod)
    text, _html = parts(alert)
    assert "Please check me" in text and "[held]" in text
    assert f"/admin/?site={site}&comment={held['comment']['id']}" in text
    assert notify.mailbox.to(digest_mod) == []  # gathered for ten minutes
    notify.run(worker.run_once(now=datetime.now(UTC) + timedelta(minutes=11)))
    [digest] = notify.mailbox.to(digest_mod)
    assert digest["Subject"].startswith("2 comments need moderation")

    # The moderation engine calls comment_flagged inside the transaction that records
    # the flag (an alert is sent while the flag is open).
    notify.holds.sites.discard(site)
    flagged = notify.reader(http, site, "Dee").post("/mod/", "Flag me").json()["comment"]["id"]
    with notify.live.services.db.write() as conn:
        conn.execute(insert(flags).values(comment_id=flagged, reader="v:engine",
                                          reason="insult", created_at=datetime.now(UTC)))
        assert alerts.comment_flagged(conn, flagged, reason="insult", flags=3) == 1
    notify.run(worker.run_once())
    text, _html = parts(notify.mailbox.to(now_mod)[-1])
    assert "[flagged]" in text and "insult; 3 flags" in text and "Flag me" in text

    # A reader's report through the API alerts the moderators the same way.
    reported = notify.reader(http, site, "Fay").post("/mod/", "Report me").json()
    reporter = notify.reader(http, site, "Gus")
    response = http.post(f"/api/comments/{reported['comment']['id']}/flag",
                         json={"reason": "abuse"}, headers=reporter.headers())
    assert response.status_code == 202, response.text
    notify.run(worker.run_once())
    text, _html = parts(notify.mailbox.to(now_mod)[-1])
    assert "[flagged]" in text and "abuse; 1 flags" in text and "Report me" in text

    # Decided before the alert went out: nothing to tell.
    notify.holds.sites.add(site)
    late = notify.reader(http, site, "Eve").post("/mod/", "Decided fast").json()
    notify.live.services.comments.set_state(late["comment"]["id"], CommentState.APPROVED)
    count = len(notify.mailbox.to(now_mod))
    notify.run(worker.run_once())
    assert len(notify.mailbox.to(now_mod)) == count


def test_it_puts_context_notes_under_their_comment_in_feeds(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    ben = notify.reader(http, site, "Ben")
    claim = ben.post("/feed-c/", "The bridge closed for good.").json()["comment"]
    plain = ben.post("/feed-c/", "Nice weather today.").json()["comment"]
    service = NoteService(notify.live.services.comments)
    note = service.add_by_staff(claim["id"], NoteDraft(
        "It reopens in *May*.", ["https://city.example/works?a=1&b=<2>"]), actor="editor")
    withdrawn = service.add_by_staff(plain["id"], NoteDraft("Withdrawn context", []),
                                     actor="editor")
    service.decide(withdrawn["id"], NoteStatus.WITHDRAWN, actor="editor")

    root = _feed(http, f"/feeds/{site}.atom")
    contents = {e.findtext(f"{A}id"): e.findtext(f"{A}content") or ""
                for e in root.findall(f"{A}entry")}
    noted = contents[f"urn:rostra:{site}:comment:{claim['id']}"]
    assert noted.startswith("<p>The bridge closed for good.</p><aside>")
    assert "<strong>Context</strong> (added by the editors)" in noted
    assert "It reopens in <em>May</em>." in noted
    source = note["sources"][0]
    assert f'<a href="{source.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}">' \
        in noted
    assert contents[f"urn:rostra:{site}:comment:{plain['id']}"] == "<p>Nice weather today.</p>"
    channel = _rss(http, f"/feeds/{site}/thread.rss", thread="/feed-c/")
    descriptions = [item.findtext("description") or "" for item in channel.findall("item")]
    assert sum("It reopens in <em>May</em>." in d for d in descriptions) == 1
