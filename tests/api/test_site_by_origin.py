"""A request that names no site is served by the site its page's origin belongs to, and
refused in plain words when no site allows that origin (SQLite and PostgreSQL). A site
needs a name, from the command line as from the API."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from tests.cli.test_cli import run
from tests.conftest import LiveServer


def test_a_page_without_a_site_is_served_by_its_origins_site(server: LiveServer,
                                                               http: httpx.Client) -> None:
    origin = f"https://o{secrets.token_hex(4)}.example"
    site = server.add_site("o" + secrets.token_hex(4), [origin])
    posted = http.post("/api/comments", headers={"Origin": origin}, json={
        "thread": "/story/", "text": "Posted without naming the site", "name": "Ana"})
    assert posted.status_code == 201, posted.text
    page = http.get("/api/comments", params={"thread": "/story/"}, headers={"Origin": origin})
    assert page.status_code == 200
    assert [c["id"] for c in page.json()["comments"]] == [posted.json()["comment"]["id"]]
    named = http.get("/api/comments", params={"site": site, "thread": "/story/"})
    assert named.json()["comments"] == page.json()["comments"]
    for headers in ({"Origin": "https://unknown.example"}, {}):
        refused = http.get("/api/comments", params={"thread": "/story/"}, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["detail"] == "site: required (no site allows this request's origin)"


def test_a_site_needs_a_name(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    refused = run(["site", "add", "news", "--name", "   "], tmp_path)
    assert refused.returncode == 1
    assert "name: must not be empty" in refused.stderr
    assert "news" not in run(["site", "list"], tmp_path).stdout
