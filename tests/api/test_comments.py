"""Posting, replying, editing and deleting through real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from unittest import mock

import httpx
from itsdangerous import TimestampSigner
from sqlalchemy import update

from rostra.store.tables import comments
from tests.conftest import ORIGIN, LiveServer, Reader, all_ids


def test_it_posts_a_comment_and_lists_it(ana: Reader) -> None:
    response = ana.post("/2026/11/story/", "Hello *world*", title="Story")
    assert response.status_code == 201, response.text
    data = response.json()
    comment = data["comment"]
    assert comment["author"] == {"name": "Ana", "website": None,
                                 "avatar": comment["author"]["avatar"], "signed_in": False}
    assert comment["html"] == "<p>Hello <em>world</em></p>"
    assert comment["state"] == "approved"
    assert data["edit_token"] and data["editable_until"].endswith("Z")

    page = ana.page("https://news.example/2026/11/story?utm_source=newsletter")
    assert page["thread"]["title"] == "Story"
    assert page["thread"]["total"] == 1
    assert [c["id"] for c in page["comments"]] == [comment["id"]]


def test_it_sets_the_edit_token_as_an_httponly_cookie(ana: Reader) -> None:
    response = ana.post("/cookie/", "text")
    cookie = response.headers["set-cookie"]
    assert f"rostra_edit_{response.json()['comment']['id']}=" in cookie
    assert "HttpOnly" in cookie


def test_it_nests_replies_oldest_first(ana: Reader, ben: Reader) -> None:
    root = ana.post("/nest/", "root").json()["comment"]["id"]
    first = ben.post("/nest/", "first reply", parent_id=root).json()["comment"]["id"]
    second = ana.post("/nest/", "second reply", parent_id=root).json()["comment"]["id"]
    deep = ana.post("/nest/", "reply to first", parent_id=first).json()["comment"]["id"]
    page = ana.page("/nest/")
    [tree] = page["comments"]
    assert [r["id"] for r in tree["replies"]] == [first, second]
    assert [r["id"] for r in tree["replies"][0]["replies"]] == [deep]
    assert tree["reply_count"] == 2
    assert page["thread"]["total"] == 4 and page["thread"]["top_level"] == 1


def test_it_never_returns_the_email(ana: Reader, server: LiveServer) -> None:
    posted = ana.post("/email/", "text", email="ana@private.example")
    assert "private.example" not in posted.text
    comment_id = posted.json()["comment"]["id"]
    for response in (
        ana.http.get("/api/comments", params={"site": ana.site, "thread": "/email/"}),
        ana.http.get(f"/api/comments/{comment_id}", headers=ana.headers(comment_id)),
    ):
        assert response.status_code == 200
        assert "private.example" not in response.text


def test_it_lets_the_author_edit_within_the_window(ana: Reader) -> None:
    comment_id = ana.post("/edit/", "first version").json()["comment"]["id"]
    response = ana.http.patch(f"/api/comments/{comment_id}", json={"text": "second **version**"},
                              headers=ana.headers(comment_id))
    assert response.status_code == 200, response.text
    assert response.json()["comment"]["html"] == "<p>second <strong>version</strong></p>"
    assert response.json()["comment"]["edited_at"] is not None
    assert ana.page("/edit/")["comments"][0]["html"] == "<p>second <strong>version</strong></p>"


def test_it_refuses_an_edit_with_a_wrong_or_missing_token(ana: Reader, ben: Reader) -> None:
    comment_id = ana.post("/edit-wrong/", "mine").json()["comment"]["id"]
    other = ben.post("/edit-wrong/", "his").json()["comment"]["id"]
    for headers in ({"Origin": ORIGIN}, {"Origin": ORIGIN, "X-Rostra-Edit-Token": "forged"},
                    {"Origin": ORIGIN, "X-Rostra-Edit-Token": ben.tokens[other]}):
        response = ana.http.patch(f"/api/comments/{comment_id}", json={"text": "hacked"},
                                  headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unauthorized"
    assert "mine" in ana.page("/edit-wrong/")["comments"][-1]["html"]


def test_it_refuses_edits_after_the_window(server: LiveServer, http: httpx.Client) -> None:
    # Two clocks close the window, each on its own: the comment's age in the database and
    # the edit token's age. A ten-minute window, so that no test runs into it by chance.
    site = server.add_site("closedwindow", [ORIGIN], edit_window_seconds=600)
    reader = Reader("Ana", http, site)

    def change(comment_id: int) -> list[httpx.Response]:
        return [http.patch(f"/api/comments/{comment_id}", json={"text": "changed"},
                           headers=reader.headers(comment_id)),
                http.delete(f"/api/comments/{comment_id}", headers=reader.headers(comment_id))]

    fresh = reader.post("/late/", "open to change").json()["comment"]["id"]
    assert http.patch(f"/api/comments/{fresh}", json={"text": "changed in time"},
                      headers=reader.headers(fresh)).status_code == 200

    # A comment eleven minutes old, with a token that is not: closed by the comment's age.
    aged = reader.post("/late/", "too late to change").json()["comment"]["id"]
    with server.services.db.write() as conn:
        conn.execute(update(comments).where(comments.c.id == aged).values(
            created_at=datetime.now(UTC) - timedelta(minutes=11)))
    for response in change(aged):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "edit_window_closed"

    # A new comment with a token signed eleven minutes ago: closed by the token's age.
    young = reader.post("/late/", "a new comment, an old token").json()["comment"]["id"]
    with mock.patch.object(TimestampSigner, "get_timestamp",
                           lambda _self: int(time.time()) - 660):
        reader.tokens[young] = server.services.tokens.edit_token(young)
    for response in change(young):
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "edit_window_closed"
    shown = {c["id"]: c["html"] for c in reader.page("/late/")["comments"]}
    assert shown[aged] == "<p>too late to change</p>"
    assert shown[young] == "<p>a new comment, an old token</p>"


def test_it_deletes_and_keeps_a_tombstone_for_replies(ana: Reader, ben: Reader) -> None:
    parent = ana.post("/tomb/", "parent").json()["comment"]["id"]
    reply = ben.post("/tomb/", "reply", parent_id=parent).json()["comment"]["id"]
    lonely = ana.post("/tomb/", "lonely").json()["comment"]["id"]

    response = ana.http.delete(f"/api/comments/{parent}", headers=ana.headers(parent))
    assert response.status_code == 200
    assert response.json()["comment"]["state"] == "deleted"
    response = ana.http.delete(f"/api/comments/{lonely}", headers=ana.headers(lonely))
    assert response.json()["comment"] is None

    page = ana.page("/tomb/")
    assert all_ids(page["comments"]) == [parent, reply]
    tomb = page["comments"][0]
    assert tomb["state"] == "deleted" and tomb["author"] is None and tomb["html"] == ""
    assert page["thread"]["total"] == 1

    # When the last reply goes, the tombstone goes too.
    ben.http.delete(f"/api/comments/{reply}", headers=ben.headers(reply))
    assert ana.page("/tomb/")["comments"] == []


def test_it_escapes_script_injection_in_every_field(ana: Reader) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = ana.post("/xss/", evil, title=evil, name=evil[:60])
    assert response.status_code == 201, response.text
    page = ana.page("/xss/")
    comment = page["comments"][0]

    class Collect(HTMLParser):
        tags: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.tags.append(tag)

    parser = Collect()
    parser.feed(comment["html"])
    assert "script" not in parser.tags and "img" not in parser.tags
    # Plain-text fields come back as text, for the widget to set with textContent.
    assert comment["author"]["name"] == evil[:60]
    assert page["thread"]["title"] == evil
    bad_site = ana.post("/xss/", "x", website="javascript:alert(1)")
    assert bad_site.status_code == 422


def test_it_rejects_bad_input_with_problem_details_and_stores_nothing(ana: Reader) -> None:
    cases = [
        ({"thread": "/bad/", "name": "A", "text": ""}, "invalid_input"),
        ({"thread": "/bad/", "name": "A", "text": "x" * 10_001}, "too_long"),
        ({"thread": "/bad/", "name": "A" * 81, "text": "x"}, "too_long"),
        ({"thread": "/bad/", "name": "", "text": "x"}, "invalid_input"),
        ({"thread": "/bad/", "name": "A", "text": "x", "email": "not-an-email"}, "invalid_input"),
        ({"thread": "/bad/", "name": "A", "text": "x", "unknown": 1}, "invalid_input"),
        ({"thread": "/bad/", "name": "A", "text": "x", "parent_id": 999999999}, "parent_not_found"),
        ({"thread": "", "name": "A", "text": "x"}, "invalid_input"),
        ({"name": "A", "text": "x"}, "invalid_input"),
    ]
    for body, code in cases:
        response = ana.http.post("/api/comments", json={"site": ana.site, **body},
                                 headers=ana.headers())
        expected = 404 if code == "parent_not_found" else 422
        assert response.status_code == expected, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == code, (body, problem)
        assert problem["status"] == response.status_code and problem["detail"]
    assert ana.page("/bad/")["thread"] is None


def test_it_answers_malformed_json_and_oversize_bodies_clearly(ana: Reader) -> None:
    response = ana.http.post("/api/comments", content=b'{"thread": "/x/", "text": ',
                             headers={**ana.headers(), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    response = ana.http.post("/api/comments", content=b"x" * (300 * 1024),
                             headers={**ana.headers(), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_it_answers_unknown_things_with_404(ana: Reader, server: LiveServer,
                                            http: httpx.Client) -> None:
    assert ana.http.get("/api/comments/999999999").json()["code"] == "not_found"
    response = http.get("/api/comments", params={"site": "no-such-site", "thread": "/x/"})
    assert response.status_code == 404 and response.json()["code"] == "site_not_found"
    closed = server.add_site("closedthreads", [ORIGIN], thread_creation="closed")
    response = Reader("Ana", http, closed).post("/never-created/", "hello")
    assert response.status_code == 404 and response.json()["code"] == "thread_not_found"
    # An unknown page simply has no comments yet.
    assert ana.page("/nobody-commented/") ["thread"] is None


# Origins that start, end or look like the allowed https://news.example: each is another site.
LOOKALIKE_ORIGINS = ["https://evil.example", "https://news.example.evil.com",
                     "https://news.examplex", "https://xnews.example", "http://news.example",
                     "https://news.example:8443", "https://news.exampl", "null"]


def test_it_refuses_writes_from_origins_the_site_does_not_allow(ana: Reader) -> None:
    own = ana.post("/o/", "mine").json()["comment"]["id"]
    for origin in LOOKALIKE_ORIGINS:
        response = ana.http.post(
            "/api/comments", json={"site": ana.site, "thread": "/o/", "name": "A", "text": "x"},
            headers={"Origin": origin},
        )
        assert response.status_code == 403, origin
        assert response.json()["code"] == "origin_not_allowed"
        assert "access-control-allow-origin" not in response.headers
        edit = ana.http.patch(f"/api/comments/{own}", json={"text": "changed"},
                              headers={**ana.headers(own), "Origin": origin})
        assert edit.status_code == 403 and edit.json()["code"] == "origin_not_allowed", origin
        preflight = ana.http.options("/api/comments", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 403, origin
    assert [c["html"] for c in ana.page("/o/")["comments"]] == ["<p>mine</p>"]


def test_it_sends_cors_headers_only_to_allowed_origins(ana: Reader) -> None:
    good = ana.http.options("/api/comments", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert good.status_code == 204
    assert good.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in good.headers["access-control-allow-methods"]
    bad = ana.http.options("/api/comments", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert bad.status_code == 403 and "access-control-allow-origin" not in bad.headers
    read = ana.http.get("/api/comments", params={"site": ana.site, "thread": "/cors/"},
                        headers={"Origin": ORIGIN})
    assert read.headers["access-control-allow-origin"] == ORIGIN


def test_it_picks_the_site_from_the_origin_when_none_is_named(server: LiveServer,
                                                                http: httpx.Client) -> None:
    server.add_site("byorigin", ["https://by-origin.example"])
    response = http.post("/api/comments", json={"thread": "/o/", "name": "A", "text": "x"},
                         headers={"Origin": "https://by-origin.example"})
    assert response.status_code == 201, response.text
    listing = http.get("/api/comments", params={"thread": "/o/"},
                       headers={"Origin": "https://by-origin.example"})
    assert listing.status_code == 200, listing.text
    assert listing.json()["thread"]["total"] == 1


def test_it_shows_a_pending_comment_only_to_its_author(server: LiveServer, ana: Reader,
                                                       ben: Reader) -> None:
    from rostra.core.models import CommentState

    posted = ana.post("/pending/", "held for review").json()["comment"]["id"]
    server.services.comments.set_state(posted, CommentState.PENDING, actor="test")
    assert ana.page("/pending/")["comments"] == []
    mine = ana.http.get(f"/api/comments/{posted}", headers=ana.headers(posted))
    assert mine.status_code == 200 and mine.json()["comment"]["state"] == "pending"
    assert ben.http.get(f"/api/comments/{posted}").status_code == 404


def test_it_renders_a_preview_like_the_stored_comment(ana: Reader) -> None:
    response = ana.http.post("/api/preview", json={"text": "**bold** <b>x</b>"})
    assert response.json()["html"] == "<p><strong>bold</strong> &lt;b&gt;x&lt;/b&gt;</p>"


def test_it_gives_one_author_one_avatar_key_and_tells_nothing_else(ana: Reader, ben: Reader) -> None:
    first = ana.post("/avatars/", "One", email="ana@readers.example").json()["comment"]
    second = ana.post("/avatars/", "Two").json()["comment"]
    other = ben.post("/avatars/", "Three").json()["comment"]
    assert first["author"]["avatar"] == second["author"]["avatar"] != other["author"]["avatar"]
    listed = {c["id"]: c["author"]["avatar"] for c in ana.page("/avatars/")["comments"]}
    assert listed[first["id"]] == first["author"]["avatar"]
    assert len(first["author"]["avatar"]) == 8 and "voter" not in str(listed)
