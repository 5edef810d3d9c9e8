"""Readers' sessions as rows: listed with their devices, ended one by one or all at
once, by the reader, by a ban and by erasure; on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import select

from rostra.services.moderation import BanKind, BanRequest
from rostra.store.account_tables import reader_sessions
from tests.api.test_oidc import oidc_server, provider, sign_in  # noqa: F401 - fixtures
from tests.conftest import ORIGIN, LiveServer

__all__ = ["oidc_server", "provider"]


def _site(live: LiveServer) -> str:
    return live.add_site("s" + secrets.token_hex(5), [ORIGIN])


def _session(live: LiveServer, site: str) -> str:
    status, message, _ = sign_in(live, site)
    assert status == 200 and message["rostra"] == "signed-in", message
    return str(message["session"])


def _post(http: httpx.Client, site: str, token: str, text: str = "Signed in") -> httpx.Response:
    return http.post("/api/comments", headers={"Origin": ORIGIN, "X-Rostra-Session": token},
                     json={"site": site, "thread": "/sessions/", "text": text})


def _account(http: httpx.Client, site: str, token: str) -> httpx.Response:
    return http.get("/api/account", params={"site": site},
                    headers={"Origin": ORIGIN, "X-Rostra-Session": token,
                             "User-Agent": "TestBrowser/1.0"})


def test_it_keeps_only_a_hash_of_the_token_and_lists_every_device(
    oidc_server: LiveServer,  # noqa: F811
) -> None:
    site = _site(oidc_server)
    first, second = _session(oidc_server, site), _session(oidc_server, site)
    with oidc_server.services.db.read() as conn:
        stored = conn.execute(select(reader_sessions.c.token_hash, reader_sessions.c.method,
                                     reader_sessions.c.device)).all()
    assert all(first not in row.token_hash and second not in row.token_hash for row in stored)
    assert {row.method for row in stored} == {"oidc"}
    with oidc_server.client() as http:
        seen = _account(http, site, first)
        assert seen.status_code == 200, seen.text
        body = seen.json()
        assert body["name"] == "Olga Provider" and body["method"] == "oidc"
        assert "olga@id.example" not in seen.text  # the address is never echoed
        assert len(body["sessions"]) == 2
        assert [s["current"] for s in body["sessions"]].count(True) == 1
        assert all(s["device"] and "python-httpx" in s["device"] for s in body["sessions"])
        assert seen.headers["cache-control"] == "no-store"


def test_a_reader_ends_another_device_and_signs_out_everywhere(
    oidc_server: LiveServer,  # noqa: F811
) -> None:
    site = _site(oidc_server)
    laptop, phone, tablet = (_session(oidc_server, site) for _ in range(3))
    with oidc_server.client() as http:
        sessions = _account(http, site, laptop).json()["sessions"]
        phone_id = next(s["id"] for s in sessions if not s["current"])
        ended = http.delete(f"/api/account/sessions/{phone_id}", params={"site": site},
                            headers={"Origin": ORIGIN, "X-Rostra-Session": laptop})
        assert ended.status_code == 204, ended.text
        again = http.delete(f"/api/account/sessions/{phone_id}", params={"site": site},
                            headers={"Origin": ORIGIN, "X-Rostra-Session": laptop})
        assert again.status_code == 404 and again.json()["code"] == "session_not_found"
        gone = [t for t in (phone, tablet) if _post(http, site, t).status_code == 401]
        assert len(gone) == 1
        assert _post(http, site, laptop).status_code == 201
        out = http.post("/api/account/sign-out", params={"site": site},
                        json={"everywhere": True},
                        headers={"Origin": ORIGIN, "X-Rostra-Session": laptop})
        assert out.status_code == 200 and out.json()["ended"] == 2
        for token in (laptop, phone, tablet):
            refused = _post(http, site, token)
            assert refused.status_code == 401 and refused.json()["code"] == "session_expired"


def test_signing_out_here_ends_this_session_only(oidc_server: LiveServer) -> None:  # noqa: F811
    site = _site(oidc_server)
    here, there = _session(oidc_server, site), _session(oidc_server, site)
    with oidc_server.client() as http:
        out = http.post("/api/account/sign-out", params={"site": site},
                        headers={"Origin": ORIGIN, "X-Rostra-Session": here})
        assert out.status_code == 200 and out.json()["ended"] == 1
        assert _account(http, site, here).status_code == 401
        assert _account(http, site, there).status_code == 200


def test_the_account_page_wants_the_sites_origin_and_a_session(
    oidc_server: LiveServer,  # noqa: F811
) -> None:
    site = _site(oidc_server)
    token = _session(oidc_server, site)
    with oidc_server.client() as http:
        foreign = http.get("/api/account", params={"site": site},
                           headers={"Origin": "https://evil.example", "X-Rostra-Session": token})
        assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
        assert foreign.headers["content-type"].startswith("application/problem+json")
        missing = http.get("/api/account", params={"site": site}, headers={"Origin": ORIGIN})
        assert missing.status_code == 401 and missing.json()["code"] == "session_expired"
        other = _site(oidc_server)
        assert _account(http, other, token).status_code == 401


def test_a_ban_of_the_account_ends_its_sessions(oidc_server: LiveServer) -> None:  # noqa: F811
    site = _site(oidc_server)
    token = _session(oidc_server, site)
    with oidc_server.client() as http:
        posted = _post(http, site, token)
        assert posted.status_code == 201, posted.text
        moderation = oidc_server.app.app.state.moderation.service
        moderation.ban(BanRequest(site, BanKind.ACCOUNT,
                                  comment_id=posted.json()["comment"]["id"], reason="abuse"),
                       actor="mod")
        refused = _post(http, site, token)
        assert refused.status_code == 401 and refused.json()["code"] == "session_expired"


def test_a_ban_of_the_accounts_email_ends_its_sessions(
        oidc_server: LiveServer) -> None:  # noqa: F811
    site = _site(oidc_server)
    token = _session(oidc_server, site)
    other_site = _site(oidc_server)
    elsewhere = _session(oidc_server, other_site)
    with oidc_server.client() as http:
        posted = _post(http, site, token)
        assert posted.status_code == 201, posted.text
        moderation = oidc_server.app.app.state.moderation.service
        moderation.ban(BanRequest(site, BanKind.EMAIL,
                                  comment_id=posted.json()["comment"]["id"], reason="abuse"),
                       actor="mod")
        refused = _post(http, site, token)
        assert refused.status_code == 401 and refused.json()["code"] == "session_expired"
        # The ban is the site's: the same person's session on another site goes on.
        assert _account(http, other_site, elsewhere).status_code == 200


def test_a_shadow_ban_keeps_the_sessions(oidc_server: LiveServer) -> None:  # noqa: F811
    site = _site(oidc_server)
    token = _session(oidc_server, site)
    with oidc_server.client() as http:
        posted = _post(http, site, token)
        moderation = oidc_server.app.app.state.moderation.service
        moderation.ban(BanRequest(site, BanKind.ACCOUNT, shadow=True,
                                  comment_id=posted.json()["comment"]["id"]), actor="mod")
        assert _account(http, site, token).status_code == 200


def test_erasure_ends_every_session(oidc_server: LiveServer) -> None:  # noqa: F811
    from rostra.services.personal_data import PersonalData

    site = _site(oidc_server)
    token = _session(oidc_server, site)
    people = PersonalData(oidc_server.services.comments)
    exported = people.export("olga@id.example")
    mine = [a for a in exported["accounts"] if a["site"] == site]
    assert len(mine) == 1 and mine[0]["sessions"][0]["method"] == "oidc"
    assert token not in str(exported)
    done = people.forget("olga@id.example", actor="test")
    assert done["sessions"] >= 1
    with oidc_server.client() as http:
        assert _account(http, site, token).status_code == 401
