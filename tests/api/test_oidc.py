"""Readers signing in with OpenID Connect, against a provider on a loopback port, on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select

from rostra.store.account_tables import reader_accounts
from rostra.store.tables import comments
from tests.conftest import ORIGIN, LiveServer
from tests.oidc_provider import LoopbackProvider


@pytest.fixture
def site(live: LiveServer) -> str:
    return live.add_site("o" + secrets.token_hex(5), [ORIGIN])


def sign_in(live: LiveServer, site: str, origin: str = ORIGIN,
            state: str | None = None) -> tuple[int, dict[str, Any], str]:
    """A browser's popup: start, the provider, the callback. (status, message, page)."""
    with httpx.Client(base_url=live.url) as popup:
        started = popup.get("/auth/testid/start", params={"site": site, "origin": origin})
        if started.status_code != 302:
            return started.status_code, started.json(), ""
        approved = httpx.get(started.headers["location"])
        assert approved.status_code == 302, approved.text
        back = approved.headers["location"]
        if state is not None:
            back = re.sub(r"state=[^&]+", f"state={state}", back)
        page = popup.get(back)
    found = re.search(r"const d = (\{.*?\});", page.text)
    assert found, page.text
    data = json.loads(found.group(1))
    assert data["origin"] == origin
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    return page.status_code, data["message"], page.text


def test_it_lists_the_providers(live: LiveServer) -> None:
    listed = httpx.get(f"{live.url}/auth/providers").json()
    assert listed == {"providers": [{"name": "testid", "label": "Test ID"}]}


def test_a_reader_signs_in_and_posts_and_votes_as_the_account(
    live: LiveServer, site: str
) -> None:
    status, message, _ = sign_in(live, site)
    assert status == 200 and message["rostra"] == "signed-in", message
    assert (message["name"], message["email"], message["site"]) == (
        "Olga Provider", "olga@id.example", site)
    session = message["session"]
    headers = {"Origin": ORIGIN, "X-Rostra-Session": session}
    with live.client() as http:
        posted = http.post("/api/comments", headers=headers, json={
            "site": site, "thread": "/oidc/", "text": "Signed in with a provider",
            "name": "Not me"})
        assert posted.status_code == 201, posted.text
        comment = posted.json()["comment"]
        assert comment["author"]["name"] == "Olga Provider"
        other = http.post("/api/comments", headers={"Origin": ORIGIN}, json={
            "site": site, "thread": "/oidc/", "text": "An anonymous view", "name": "Pat"},
        ).json()["comment"]["id"]
        # Signed in again in another browser: the same account, so the same single vote.
        _, again, _ = sign_in(live, site)
        for token in (session, again["session"]):
            voted = http.post(f"/api/comments/{other}/vote", json={"value": 1},
                              headers={"Origin": ORIGIN, "X-Rostra-Session": token})
            assert voted.status_code == 200 and voted.json()["score"] == 1, voted.text
        own = http.post(f"/api/comments/{comment['id']}/vote", json={"value": 1},
                        headers={"Origin": ORIGIN, "X-Rostra-Session": again["session"]})
        assert own.status_code == 403 and own.json()["code"] == "own_comment"
    with live.services.db.read() as conn:
        row = conn.execute(select(comments.c.account_id, comments.c.author_email)
                           .where(comments.c.id == comment["id"])).one()
        account = conn.execute(select(reader_accounts)
                               .where(reader_accounts.c.id == row.account_id)).one()
    assert (account.site_id, account.subject) == (site, "testid:4711")
    assert row.author_email == "olga@id.example"


def test_a_session_is_good_on_its_own_site_only(live: LiveServer, site: str) -> None:
    _, message, _ = sign_in(live, site)
    elsewhere = live.add_site("o" + secrets.token_hex(5), [ORIGIN])
    with live.client() as http:
        response = http.post("/api/comments", headers={
            "Origin": ORIGIN, "X-Rostra-Session": message["session"]},
            json={"site": elsewhere, "thread": "/x/", "text": "hi"})
        assert response.status_code == 401 and response.json()["code"] == "session_expired"
        session = message["session"]
        other = "A" if session[-5] != "A" else "B"  # inside the signature, not its padding
        forged = http.post("/api/comments", headers={
            "Origin": ORIGIN, "X-Rostra-Session": session[:-5] + other + session[-4:]},
            json={"site": site, "thread": "/x/", "text": "hi"})
        assert forged.status_code == 401


def test_it_only_answers_pages_of_the_site(live: LiveServer, site: str) -> None:
    status, problem, _ = sign_in(live, site, origin="https://evil.example")
    assert status == 403 and problem["code"] == "origin_not_allowed"


def test_an_answer_for_another_attempt_or_nonce_signs_nobody_in(
    live: LiveServer, site: str, provider: LoopbackProvider
) -> None:
    _, message, page = sign_in(live, site, state="not-the-state")
    assert message == {"rostra": "sign-in-failed", "code": "sign_in_failed"}
    assert "not for the sign-in" in page
    now = int(time.time())
    for tampered in ({"nonce": "replayed"}, {"aud": "another-client"},
                     {"iss": "https://other.example"}, {"exp": now - 120},
                     {"exp": now - 3600, "iat": now - 3900}):
        provider.tamper = tampered
        try:
            _, message, page = sign_in(live, site)
        finally:
            provider.tamper = {}
        assert message["rostra"] == "sign-in-failed", (tampered, message)
        assert "session" not in message
    # An ID token whose signature the provider's published keys do not verify.
    provider.forged_with = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    try:
        _, message, page = sign_in(live, site)
    finally:
        provider.forged_with = None
    assert message["rostra"] == "sign-in-failed" and "session" not in message, message
    with live.services.db.read() as conn:
        assert conn.execute(select(reader_accounts.c.id)
                            .where(reader_accounts.c.site_id == site)).first() is None
