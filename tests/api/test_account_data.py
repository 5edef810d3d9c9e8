"""A signed-in reader downloads their own data and erases their account from the
widget's Account panel (GDPR Art. 15, 17, 20): with their session's token only (a
header, never a cookie), from a page of the site, erasure only with its confirmation
value; on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import select

from rostra.services.identity import ERASE_CONFIRMATION
from rostra.store.account_tables import reader_accounts
from rostra.store.tables import comments
from tests.api.test_oidc import sign_in
from tests.conftest import ORIGIN, LiveServer


def _site(live: LiveServer) -> str:
    return live.add_site("d" + secrets.token_hex(5), [ORIGIN])


def _session(live: LiveServer, site: str) -> str:
    status, message, _ = sign_in(live, site)
    assert status == 200 and message["rostra"] == "signed-in", message
    return str(message["session"])


def _as(token: str, origin: str = ORIGIN) -> dict[str, str]:
    return {"Origin": origin, "X-Rostra-Session": token}


def test_a_reader_downloads_their_data_then_erases_their_account(live: LiveServer) -> None:
    site = _site(live)
    token, other_browser = _session(live, site), _session(live, site)
    with live.client() as http:
        mine = http.post("/api/comments", headers=_as(token), json={
            "site": site, "thread": "/mine/", "text": "My own signed-in words"})
        assert mine.status_code == 201, mine.text
        theirs = http.post("/api/comments", headers={"Origin": ORIGIN}, json={
            "site": site, "thread": "/mine/", "text": "Somebody else", "name": "Pat"})
        voted = http.post(f"/api/comments/{theirs.json()['comment']['id']}/vote",
                          json={"value": 1}, headers=_as(token))
        assert voted.status_code == 200, voted.text

        got = http.get("/api/account/data", params={"site": site}, headers=_as(token))
        assert got.status_code == 200, got.text
        assert got.headers["cache-control"] == "no-store"
        assert got.headers["content-disposition"].startswith("attachment")
        data = got.json()
        assert [c["text"] for c in data["comments"]] == ["My own signed-in words"]
        assert [v["value"] for v in data["votes"]] == [1]
        [account] = data["accounts"]
        assert account["id"] == "testid:4711" and len(account["sessions"]) == 2

        # Nothing is erased without the confirmation value, nor from another origin.
        for body in ({}, {"confirm": "yes"}, {"confirm": ERASE_CONFIRMATION.upper()}):
            refused = http.post("/api/account/erase", params={"site": site},
                                headers=_as(token), json=body)
            assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["code"] == "invalid_input"
        assert ERASE_CONFIRMATION in refused.json()["detail"]
        foreign = http.post("/api/account/erase", params={"site": site},
                            headers=_as(token, "https://evil.example"),
                            json={"confirm": ERASE_CONFIRMATION})
        assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
        anonymous = http.post("/api/account/erase", params={"site": site},
                              headers={"Origin": ORIGIN}, json={"confirm": ERASE_CONFIRMATION})
        assert anonymous.status_code == 401 and anonymous.json()["code"] == "session_expired"
        assert http.get("/api/account", params={"site": site},
                        headers=_as(token)).status_code == 200

        erased = http.post("/api/account/erase", params={"site": site}, headers=_as(token),
                           json={"confirm": ERASE_CONFIRMATION})
        assert erased.status_code == 200, erased.text
        assert erased.json()["erased"]["comments"] == 1
        assert erased.json()["erased"]["sessions"] == 2
        for session in (token, other_browser):
            gone = http.get("/api/account/data", params={"site": site}, headers=_as(session))
            assert gone.status_code == 401 and gone.json()["code"] == "session_expired"
    with live.services.db.read() as conn:
        text = conn.scalar(select(comments.c.text)
                           .where(comments.c.id == mine.json()["comment"]["id"]))
        left = conn.scalar(select(reader_accounts.c.id).where(
            reader_accounts.c.site_id == site))
    assert text == "" and left is None


def test_the_data_is_only_the_sessions_own_and_only_on_its_site(live: LiveServer) -> None:
    site, elsewhere = _site(live), _site(live)
    token = _session(live, site)
    with live.client() as http:
        other = http.get("/api/account/data", params={"site": elsewhere}, headers=_as(token))
        assert other.status_code == 401 and other.json()["code"] == "session_expired"
        foreign = http.get("/api/account/data", params={"site": site},
                           headers=_as(token, "https://evil.example"))
        assert foreign.status_code == 403
        missing = http.get("/api/account/data", params={"site": site},
                           headers={"Origin": ORIGIN})
        assert missing.status_code == 401
        # A browser's cookies carry nothing: the token is only ever a header.
        cookie = httpx.get(f"{live.url}/api/account/data", params={"site": site},
                           headers={"Origin": ORIGIN}, cookies={"X-Rostra-Session": token})
        assert cookie.status_code == 401
