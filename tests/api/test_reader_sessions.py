"""Readers' sessions as rows: listed with their devices, ended one by one or all at
once, by the reader, by a ban and by erasure; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from rostra.services.moderation import BanKind, BanRequest
from rostra.services.sessions import SESSION_TTL, OpenSession, SessionInfo, SignInMethod
from rostra.store.account_tables import reader_sessions
from tests.api.test_oidc import sign_in
from tests.conftest import ORIGIN, LiveServer


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


def test_it_keeps_only_a_hash_of_the_token_and_lists_every_device(live: LiveServer) -> None:
    site = _site(live)
    first, second = _session(live, site), _session(live, site)
    with live.services.db.read() as conn:
        stored = conn.execute(select(reader_sessions.c.token_hash, reader_sessions.c.method,
                                     reader_sessions.c.device)).all()
    assert all(first not in row.token_hash and second not in row.token_hash for row in stored)
    assert {row.method for row in stored} == {"oidc"}
    with live.client() as http:
        seen = _account(http, site, first)
        assert seen.status_code == 200, seen.text
        body = seen.json()
        assert body["name"] == "Olga Provider" and body["method"] == "oidc"
        assert "olga@id.example" not in seen.text  # the address is never echoed
        assert len(body["sessions"]) == 2
        assert [s["current"] for s in body["sessions"]].count(True) == 1
        assert all(s["device"] and "python-httpx" in s["device"] for s in body["sessions"])
        assert seen.headers["cache-control"] == "no-store"


def test_a_reader_ends_another_device_and_signs_out_everywhere(live: LiveServer) -> None:
    site = _site(live)
    laptop, phone, tablet = (_session(live, site) for _ in range(3))
    with live.client() as http:
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


def test_signing_out_here_ends_this_session_only(live: LiveServer) -> None:
    site = _site(live)
    here, there = _session(live, site), _session(live, site)
    with live.client() as http:
        out = http.post("/api/account/sign-out", params={"site": site},
                        headers={"Origin": ORIGIN, "X-Rostra-Session": here})
        assert out.status_code == 200 and out.json()["ended"] == 1
        assert _account(http, site, here).status_code == 401
        assert _account(http, site, there).status_code == 200


def test_the_account_page_wants_the_sites_origin_and_a_session(live: LiveServer) -> None:
    site = _site(live)
    token = _session(live, site)
    with live.client() as http:
        foreign = http.get("/api/account", params={"site": site},
                           headers={"Origin": "https://evil.example", "X-Rostra-Session": token})
        assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
        assert foreign.headers["content-type"].startswith("application/problem+json")
        missing = http.get("/api/account", params={"site": site}, headers={"Origin": ORIGIN})
        assert missing.status_code == 401 and missing.json()["code"] == "session_expired"
        other = _site(live)
        assert _account(http, other, token).status_code == 401


def test_a_ban_of_the_account_ends_its_sessions(live: LiveServer) -> None:
    site = _site(live)
    token = _session(live, site)
    with live.client() as http:
        posted = _post(http, site, token)
        assert posted.status_code == 201, posted.text
        moderation = live.app.app.state.moderation.service
        moderation.ban(BanRequest(site, BanKind.ACCOUNT,
                                  comment_id=posted.json()["comment"]["id"], reason="abuse"),
                       actor="mod")
        refused = _post(http, site, token)
        assert refused.status_code == 401 and refused.json()["code"] == "session_expired"


def test_a_ban_of_the_accounts_email_ends_its_sessions(
        live: LiveServer) -> None:
    site = _site(live)
    token = _session(live, site)
    other_site = _site(live)
    elsewhere = _session(live, other_site)
    with live.client() as http:
        posted = _post(http, site, token)
        assert posted.status_code == 201, posted.text
        moderation = live.app.app.state.moderation.service
        moderation.ban(BanRequest(site, BanKind.EMAIL,
                                  comment_id=posted.json()["comment"]["id"], reason="abuse"),
                       actor="mod")
        refused = _post(http, site, token)
        assert refused.status_code == 401 and refused.json()["code"] == "session_expired"
        # The ban is the site's: the same person's session on another site goes on.
        assert _account(http, other_site, elsewhere).status_code == 200


def test_a_shadow_ban_keeps_the_sessions(live: LiveServer) -> None:
    site = _site(live)
    token = _session(live, site)
    with live.client() as http:
        posted = _post(http, site, token)
        moderation = live.app.app.state.moderation.service
        moderation.ban(BanRequest(site, BanKind.ACCOUNT, shadow=True,
                                  comment_id=posted.json()["comment"]["id"]), actor="mod")
        assert _account(http, site, token).status_code == 200


def test_erasure_ends_every_session(live: LiveServer) -> None:
    from rostra.services.personal_data import PersonalData

    site = _site(live)
    token = _session(live, site)
    people = PersonalData(live.services.comments)
    exported = people.export("olga@id.example")
    mine = [a for a in exported["accounts"] if a["site"] == site]
    assert len(mine) == 1 and mine[0]["sessions"][0]["method"] == "oidc"
    assert token not in str(exported)
    done = people.forget("olga@id.example", actor="test")
    assert done["sessions"] >= 1
    with live.client() as http:
        assert _account(http, site, token).status_code == 401


# -- the service itself, each outcome exact (SQLite and PostgreSQL) ----------------------


def _reader(live: LiveServer, site: str) -> int:
    subject = "email:" + secrets.token_hex(4) + "@readers.example"
    return live.services.accounts.sign_in(site, subject, "Reader", subject[6:]).id


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _row(live: LiveServer, token: str) -> Any:
    with live.services.db.read() as conn:
        return conn.execute(select(reader_sessions)
                            .where(reader_sessions.c.token_hash == _digest(token))).first()


def _set(live: LiveServer, token: str, **values: Any) -> None:
    with live.services.db.write() as conn:
        conn.execute(update(reader_sessions)
                     .where(reader_sessions.c.token_hash == _digest(token)).values(**values))


def test_a_session_is_stored_as_a_hash_with_how_where_and_when_it_began(
        server: LiveServer) -> None:
    sessions = server.services.accounts.sessions
    site = _site(server)
    account = _reader(server, site)
    address = f"2001:db8:{secrets.randbelow(65536):x}::9"
    browser = "Mozilla/5.0 (X11; Linux x86_64)\n\tFirefox/140.0"
    plain = sessions.open(account, site, SignInMethod.OIDC, device=browser, ip=address)
    with server.services.db.write() as conn:  # inside a caller's transaction
        inside = sessions.open(account, site, SignInMethod.EMAIL, conn=conn)
    for token, method, device, ip_hash in (
            (plain, "oidc", "Mozilla/5.0 (X11; Linux x86_64)Firefox/140.0",
             server.services.comments.hashing.ips.hash(address)),
            (inside, "email", None, None)):
        assert len(token) == 43  # 32 random bytes
        row = _row(server, token)
        assert (row.account_id, row.site_id, row.method, row.device, row.ip_hash) == (
            account, site, method, device, ip_hash)
        assert row.seen_at == row.created_at
        assert row.expires_at == row.created_at + SESSION_TTL
        assert sessions.find(token) == OpenSession(row.id, account, site, method)


def test_a_device_is_its_user_agent_on_one_line_and_at_most_200_characters(
        server: LiveServer) -> None:
    sessions = server.services.accounts.sessions
    site = _site(server)
    account = _reader(server, site)
    for agent, device in (("x" * 300, "x" * 200), ("\t\n", None), ("", None), (None, None),
                          ("  Lynx/2.9 \r\n", "Lynx/2.9")):
        assert _row(server, sessions.open(account, site, SignInMethod.PASSKEY,
                                          device=agent)).device == device


def test_a_token_is_looked_up_only_when_it_could_be_one(server: LiveServer) -> None:
    sessions = server.services.accounts.sessions
    site = _site(server)
    account = _reader(server, site)
    token = sessions.open(account, site, SignInMethod.OIDC)
    # Rows whose hashes are those of a token of 100 characters, and of 101: the longer
    # one is refused before it is hashed.
    for long in ("a" * 100, "b" * 101):
        other = sessions.open(account, site, SignInMethod.OIDC)
        _set(server, other, token_hash=_digest(long))
    assert sessions.find("a" * 100) is not None
    assert sessions.find("b" * 101) is None
    assert sessions.find("") is None and sessions.find(None) is None
    assert sessions.find(token[:-1]) is None
    assert sessions.find(token) == OpenSession(_row(server, token).id, account, site, "oidc")


def test_a_session_ends_when_it_expires_and_pruning_forgets_it(server: LiveServer) -> None:
    sessions = server.services.accounts.sessions
    site = _site(server)
    account = _reader(server, site)
    ending, lasting = (sessions.open(account, site, SignInMethod.EMAIL) for _ in range(2))
    _set(server, ending, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    _set(server, lasting, expires_at=datetime.now(UTC) + timedelta(minutes=1))
    assert sessions.find(ending) is None
    assert sessions.find(lasting) is not None
    assert [s.id for s in sessions.of_account(account)] == [_row(server, lasting).id]
    with server.services.db.read() as conn:
        expired = conn.scalar(select(func.count()).select_from(reader_sessions)
                              .where(reader_sessions.c.expires_at <= datetime.now(UTC)))
    assert expired >= 1
    assert sessions.prune() == expired
    assert _row(server, ending) is None and _row(server, lasting) is not None


def test_a_session_notes_its_last_use_at_most_every_ten_minutes(server: LiveServer) -> None:
    sessions = server.services.accounts.sessions
    site = _site(server)
    account = _reader(server, site)
    recent, stale, other = (sessions.open(account, site, SignInMethod.OIDC) for _ in range(3))
    now = datetime.now(UTC)
    _set(server, recent, seen_at=now - timedelta(minutes=9))
    _set(server, stale, seen_at=now - timedelta(minutes=11))
    _set(server, other, seen_at=now - timedelta(minutes=20))
    for token in (recent, stale):
        assert sessions.find(token) == OpenSession(_row(server, token).id, account, site, "oidc")
    assert _row(server, recent).seen_at == now - timedelta(minutes=9)
    assert _row(server, stale).seen_at > now - timedelta(minutes=9)
    assert _row(server, other).seen_at == now - timedelta(minutes=20)


def test_an_account_lists_its_open_sessions_most_recently_used_first(server: LiveServer) -> None:
    sessions = server.services.accounts.sessions
    site = _site(server)
    account, other = _reader(server, site), _reader(server, site)
    tokens = [sessions.open(account, site, method, device=f"Browser {n}")
              for n, method in enumerate((SignInMethod.OIDC, SignInMethod.EMAIL,
                                          SignInMethod.PASSKEY, SignInMethod.OIDC))]
    sessions.open(other, site, SignInMethod.OIDC)
    ended = sessions.open(account, site, SignInMethod.OIDC)
    _set(server, ended, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    now = datetime.now(UTC)
    # The first is the most recent; the last two were seen at the same moment (the
    # later one first), the second longest ago.
    for token, minutes in zip(tokens, (1, 30, 20, 20), strict=True):
        _set(server, token, seen_at=now - timedelta(minutes=minutes))
    rows = {t: _row(server, t) for t in tokens}
    current = rows[tokens[2]].id
    expected = [tokens[0], tokens[3], tokens[2], tokens[1]]
    assert sessions.of_account(account, current) == [
        SessionInfo(rows[t].id, rows[t].method, f"Browser {tokens.index(t)}", rows[t].created_at,
                    rows[t].seen_at, rows[t].expires_at, rows[t].id == current)
        for t in expected]
    assert [s.current for s in sessions.of_account(account)] == [False] * 4


def test_a_reader_ends_only_their_own_session_and_all_of_theirs(server: LiveServer) -> None:
    sessions = server.services.accounts.sessions
    site = _site(server)
    account, other = _reader(server, site), _reader(server, site)
    one, two, three = (sessions.open(account, site, SignInMethod.OIDC) for _ in range(3))
    theirs = sessions.open(other, site, SignInMethod.OIDC)
    assert sessions.end(account, _row(server, theirs).id) is False
    assert sessions.end(other, _row(server, one).id) is False
    assert sessions.end(account, _row(server, one).id) is True
    assert [sessions.find(t) is not None for t in (one, two, three, theirs)] == [
        False, True, True, True]
    assert sessions.end_all(account) == 2
    assert [sessions.find(t) is not None for t in (two, three, theirs)] == [False, False, True]
    assert sessions.end_all(account) == 0
