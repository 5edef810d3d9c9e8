"""Single sign-on from the host site, through real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from rostra.store.account_tables import reader_accounts
from rostra.store.tables import comments
from tests.cli.test_cli import run
from tests.conftest import ORIGIN, LiveServer


def signed(secret: str, **claims: Any) -> str:
    """What a host site's server writes into its page (written here from the spec in
    docs/sso.md, not with Rostra's own helper)."""
    claims.setdefault("exp", int(time.time()) + 3600)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return body.decode() + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def post(http: httpx.Client, site: str, thread: str, text: str, sso: str | None = None,
         **extra: Any) -> httpx.Response:
    headers = {"Origin": ORIGIN}
    if sso:
        headers["X-Rostra-SSO"] = sso
    return http.post("/api/comments", headers=headers,
                     json={"site": site, "thread": thread, "text": text, **extra})


def test_a_signed_in_reader_posts_under_the_account(server: LiveServer, site: str,
                                                     http: httpx.Client) -> None:
    secret = server.services.accounts.make_secret(site)
    sso = signed(secret, id="u-17", name="Ana Novak", email="ana@reader.example",
                 website="https://ana.example")
    response = post(http, site, "/sso/", "Hello as a member", sso, name="Someone Else",
                    email="spoof@example.org")
    assert response.status_code == 201, response.text
    comment = response.json()["comment"]
    assert comment["author"] == {"name": "Ana Novak", "website": "https://ana.example/",
                                 "avatar": comment["author"]["avatar"], "signed_in": True}
    assert "reader.example" not in response.text
    with server.services.db.read() as conn:
        row = conn.execute(select(comments.c.account_id, comments.c.author_email)
                           .where(comments.c.id == comment["id"])).one()
        account = conn.execute(select(reader_accounts)
                               .where(reader_accounts.c.id == row.account_id)).one()
    assert row.author_email == "ana@reader.example"
    assert (account.site_id, account.subject, account.name) == (site, "u-17", "Ana Novak")

    # A new name at the site is the same account, renamed.
    renamed = post(http, site, "/sso/", "Again", signed(secret, id="u-17", name="Ana N."))
    assert renamed.json()["comment"]["author"]["name"] == "Ana N."
    with server.services.db.read() as conn:
        ids = conn.execute(select(comments.c.account_id).where(
            comments.c.id.in_([comment["id"], renamed.json()["comment"]["id"]]))).scalars()
        assert len(set(ids)) == 1


def test_an_account_votes_once_from_every_browser(server: LiveServer, site: str,
                                                  http: httpx.Client) -> None:
    secret = server.services.accounts.make_secret(site)
    author = post(http, site, "/sso-votes/", "Vote on this",
                  signed(secret, id="author", name="Author")).json()["comment"]["id"]
    voter = signed(secret, id="voter", name="Voter")

    def vote(value: int, browser_token: str | None, sso: str = voter) -> httpx.Response:
        headers = {"Origin": ORIGIN, "X-Rostra-SSO": sso}
        if browser_token:
            headers["X-Rostra-Voter"] = browser_token
        return http.post(f"/api/comments/{author}/vote", json={"value": value}, headers=headers)

    first = vote(1, None)
    assert first.status_code == 200, first.text
    assert first.json()["score"] == 1 and first.json()["voter"] is None
    # The phone: another browser, with an anonymous voter token of its own.
    phone_token = http.post(f"/api/comments/{author}/vote", json={"value": 0},
                            headers={"Origin": ORIGIN}).json()["voter"]
    assert phone_token
    again = vote(1, phone_token)
    assert again.json()["score"] == 1  # still one vote
    down = vote(-1, None)
    assert down.json()["score"] == -1 and down.json()["downvotes"] == 1
    mine = http.get("/api/votes", params={"site": site, "thread": "/sso-votes/"},
                    headers={"Origin": ORIGIN, "X-Rostra-SSO": voter})
    assert mine.json()["votes"] == {str(author): -1}
    # The author, from a browser without the edit token, still cannot vote on it.
    own = vote(1, None, signed(secret, id="author", name="Author"))
    assert own.status_code == 403 and own.json()["code"] == "own_comment"


def test_it_refuses_payloads_that_are_not_the_sites(server: LiveServer, site: str,
                                                    http: httpx.Client) -> None:
    no_sso = post(http, site, "/sso-bad/", "x", signed("whatever", id="a", name="A"))
    assert no_sso.status_code == 401 and no_sso.json()["code"] == "sso_not_enabled"
    secret = server.services.accounts.make_secret(site)
    good = signed(secret, id="a", name="A")
    _, _, mac = good.partition(".")
    forged_body = base64.urlsafe_b64encode(
        json.dumps({"id": "admin", "name": "Admin", "exp": int(time.time()) + 60}).encode()
    ).rstrip(b"=").decode()
    cases = {
        "sso_invalid": [
            signed("another site's secret", id="a", name="A"),
            f"{forged_body}.{mac}",
            "garbage",
            signed(secret, name="No id"),
            signed(secret, id="a", name="A", exp=int(time.time()) + 30 * 24 * 3600),
            signed(secret, id="a", name="A\nB"),
        ],
        "sso_expired": [signed(secret, id="a", name="A", exp=int(time.time()) - 5)],
    }
    for code, payloads in cases.items():
        for payload in payloads:
            response = post(http, site, "/sso-bad/", "x", payload)
            assert response.status_code == 401, (payload, response.text)
            assert response.json()["code"] == code, payload
    assert post(http, site, "/sso-bad/", "x", good).status_code == 201
    # Rotating the secret ends every payload signed with the old one.
    server.services.accounts.make_secret(site, rotate=True)
    assert post(http, site, "/sso-bad/", "y", good).json()["code"] == "sso_invalid"


def test_a_browser_may_send_the_sign_on_header_cross_origin(server: LiveServer, site: str,
                                                            http: httpx.Client) -> None:
    preflight = http.options("/api/comments", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-rostra-sso",
    })
    assert preflight.status_code == 204
    assert "X-Rostra-SSO" in preflight.headers["access-control-allow-headers"]


def test_the_command_line_makes_rotates_and_turns_off_the_secret(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    assert run(["site", "add", "gazette", "--name", "Gazette"], tmp_path).returncode == 0
    made = run(["site", "sso", "gazette"], tmp_path)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert len(secret) >= 40 and "never in a page" in made.stderr
    assert run(["site", "sso", "gazette"], tmp_path).stdout.strip() == secret
    rotated = run(["site", "sso", "gazette", "--rotate"], tmp_path).stdout.strip()
    assert rotated and rotated != secret
    off = run(["site", "sso", "gazette", "--off"], tmp_path)
    assert off.returncode == 0 and "off" in off.stdout
    missing = run(["site", "sso", "nosuchsite"], tmp_path)
    assert missing.returncode == 1 and "nosuchsite" in missing.stderr


def test_a_ban_on_the_account_follows_the_reader_to_any_browser(
    server: LiveServer, site: str, http: httpx.Client
) -> None:
    from rostra.services.moderation import BanKind, BanRequest

    secret = server.services.accounts.make_secret(site)
    troll = signed(secret, id="troll-1", name="Troll")
    first = post(http, site, "/sso-ban/", "Something rude enough to ban", troll)
    assert first.status_code == 201, first.text
    moderation = server.app.app.state.moderation.service
    moderation.ban(BanRequest(site, BanKind.ACCOUNT, comment_id=first.json()["comment"]["id"],
                              reason="abuse"), actor="mod")
    # Another browser, another address: still the same account, still banned.
    again = http.post("/api/comments", json={"site": site, "thread": "/sso-ban/",
                                             "text": "I am back from elsewhere"},
                      headers={"Origin": ORIGIN, "X-Rostra-SSO": troll,
                               "X-Forwarded-For": "198.51.100.77"})
    assert again.status_code == 422, again.text
    assert again.json()["reasons"] == ["banned"]
    other = post(http, site, "/sso-ban/", "A different member is fine",
                 signed(secret, id="member-2", name="Nice"))
    assert other.status_code == 201
