"""The page URL a comment names for its thread goes out in emails, feeds and webhooks:
only an http(s) page of the site's own origins is taken. And a comment its author deleted
cannot be edited back (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.conftest import Reader


@pytest.mark.parametrize(("url", "detail"), [
    ("javascript:alert(document.cookie)", "url: must be an http or https address"),
    ("ftp://news.example/story", "url: must be an http or https address"),
    ("https://phish.example/news.example/story", "url: not on one of this site's origins"),
    ("https://news.example.phish.example/story", "url: not on one of this site's origins"),
])
def test_it_takes_a_thread_url_only_on_the_sites_origins(ana: Reader, url: str,
                                                         detail: str) -> None:
    refused = ana.post("/linked/", "A comment naming its page", url=url)
    assert refused.status_code == 422
    assert refused.json()["detail"] == detail
    taken = ana.post("/linked/", "A comment naming its page",
                     url="https://news.example/linked/?utm_source=feed")
    assert taken.status_code == 201, taken.text
    assert ana.page("/linked/")["thread"]["url"] == "https://news.example/linked"


def test_a_deleted_comment_cannot_be_edited_back(ana: Reader) -> None:
    posted = ana.post("/regret/", "Something I regret writing")
    comment_id = posted.json()["comment"]["id"]
    deleted = ana.http.delete(f"/api/comments/{comment_id}", headers=ana.headers(comment_id))
    assert deleted.status_code == 200, deleted.text
    edited = ana.http.patch(f"/api/comments/{comment_id}", json={"text": "Back again"},
                            headers=ana.headers(comment_id))
    assert edited.status_code == 404
    assert edited.json()["detail"] == "this comment was deleted"
    assert comment_id not in [c["id"] for c in ana.page("/regret/")["comments"]]
