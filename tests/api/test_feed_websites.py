"""An author's website reaches feed readers as it reaches the thread's page: an http(s)
address or nothing. The API refuses anything else, but an import stores a website as
the old system had it, ``javascript:`` included. On SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import httpx

from rostra.core.models import CommentState
from rostra.services.import_records import ImportedComment, ImportedThread, ImportSource
from rostra.services.importing import ImportEngine
from tests.conftest import LiveServer, Reader

ATOM = "{http://www.w3.org/2005/Atom}"
WEBSITES = {
    "Ana": "http://ana.example/",
    "Eve": "javascript:alert(document.domain)",
    "Mal": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "Tom": "ana dot example",
}


def test_a_feed_links_only_web_addresses_as_authors_websites(
    server: LiveServer, http: httpx.Client, site: str,
) -> None:
    at = datetime.now(UTC) - timedelta(days=1)
    ImportEngine(server.services.db, source=ImportSource.WORDPRESS, site_id=site,
                 fingerprint=f"websites-{site}").run([
        ImportedThread("t1", "/old-story", url="https://news.example/old-story",
                       title="Old story"),
        *(ImportedComment(f"c{n}", "t1", None, CommentState.APPROVED, f"By {name}",
                          f"<p>By {name}</p>", at + timedelta(minutes=n), author_name=name,
                          author_website=website)
          for n, (name, website) in enumerate(WEBSITES.items())),
    ])
    page = Reader("Ben", http, site).page("/old-story")
    shown = {c["author"]["name"]: c["author"]["website"] for c in page["comments"]}
    assert shown == {"Ana": "http://ana.example/", "Eve": None, "Mal": None, "Tom": None}

    response = http.get(f"/feeds/{site}.atom")
    assert response.status_code == 200, response.text
    authors = [e.find(f"{ATOM}author") for e in
               ET.fromstring(response.content).findall(f"{ATOM}entry")]
    in_feed = {a.findtext(f"{ATOM}name"): a.findtext(f"{ATOM}uri")
               for a in authors if a is not None}
    assert in_feed == shown
    for kind in ("atom", "rss"):
        text = http.get(f"/feeds/{site}.{kind}").text
        assert "javascript:" not in text and "data:text" not in text, kind
