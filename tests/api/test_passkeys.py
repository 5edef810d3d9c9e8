"""Readers' passkeys through the API, with a software authenticator, on SQLite and
PostgreSQL: registered in a session, then signing in alone, once per challenge, on
their own site and origin only; removed; gone with erasure."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from rostra.services.sessions import SignInMethod
from tests.conftest import LiveServer
from tests.webauthn_soft import SoftAuthenticator

ORIGIN = "https://news.example"


def _reader(server: LiveServer, site: str) -> tuple[str, str]:
    email = f"k{secrets.token_hex(5)}@readers.example"
    reader = server.services.accounts.sign_in(site, f"email:{email}", "Kim Key", email,
                                              email_verified=True)
    return server.services.accounts.session_for(site, reader, SignInMethod.EMAIL), email


def _register(http: httpx.Client, site: str, token: str, key: SoftAuthenticator,
              origin: str = ORIGIN) -> httpx.Response:
    headers = {"Origin": origin, "X-Rostra-Session": token}
    begun = http.post("/api/account/passkeys/options", params={"site": site}, headers=headers)
    assert begun.status_code == 200, begun.text
    options = begun.json()["options"]
    assert options["rp"]["id"] == "news.example"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    return http.post("/api/account/passkeys", params={"site": site}, headers=headers, json={
        "handle": begun.json()["handle"], "credential": key.register(options, origin),
        "name": "My laptop"})


def _options(http: httpx.Client, site: str, origin: str = ORIGIN) -> dict[str, Any]:
    begun = http.post("/auth/passkey/options", json={"site": site}, headers={"Origin": origin})
    assert begun.status_code == 200, begun.text
    data: dict[str, Any] = begun.json()
    return data


def _sign_in(http: httpx.Client, site: str, handle: str, credential: dict[str, Any],
             origin: str = ORIGIN) -> httpx.Response:
    return http.post("/auth/passkey/session", headers={"Origin": origin},
                     json={"site": site, "handle": handle, "credential": credential})


def test_a_reader_registers_a_passkey_and_signs_in_with_it_alone(
    server: LiveServer, site: str
) -> None:
    token, _ = _reader(server, site)
    key = SoftAuthenticator()
    with server.client() as http:
        # No email, no provider, no passkey yet on this server's site: no button.
        assert http.get("/auth/providers", params={"site": site}).json()["passkeys"] is False
        added = _register(http, site, token, key)
        assert added.status_code == 201, added.text
        assert http.get("/auth/providers", params={"site": site}).json()["passkeys"] is True
        assert added.json()["name"] == "My laptop"
        begun = _options(http, site)
        assert begun["options"]["allowCredentials"] == []  # discoverable: no name typed
        signed = _sign_in(http, site, begun["handle"], key.assert_(begun["options"], ORIGIN))
        assert signed.status_code == 200, signed.text
        session = signed.json()["session"]
        headers = {"Origin": ORIGIN, "X-Rostra-Session": session}
        me = http.get("/api/account", params={"site": site}, headers=headers).json()
        assert me["method"] == "passkey" and me["name"] == "Kim Key"
        assert [k["name"] for k in me["passkeys"]] == ["My laptop"]
        assert me["passkeys"][0]["last_used_at"] is not None
        posted = http.post("/api/comments", headers=headers, json={
            "site": site, "thread": "/passkey/", "text": "Signed in with a passkey"})
        assert posted.status_code == 201 and posted.json()["comment"]["author"]["name"] == "Kim Key"


def test_each_challenge_signs_in_once_and_only_for_its_origin_and_site(
    server: LiveServer, site: str
) -> None:
    token, _ = _reader(server, site)
    key = SoftAuthenticator()
    other = server.add_site("k" + secrets.token_hex(5), [ORIGIN])
    with server.client() as http:
        assert _register(http, site, token, key).status_code == 201
        begun = _options(http, site)
        answer = key.assert_(begun["options"], ORIGIN)
        assert _sign_in(http, site, begun["handle"], answer).status_code == 200
        replay = _sign_in(http, site, begun["handle"], answer)
        assert replay.status_code == 400 and replay.json()["code"] == "passkey_failed"
        begun = _options(http, site)
        phished = _sign_in(http, site, begun["handle"],
                           key.assert_(begun["options"], "https://evil.example"))
        assert phished.status_code == 400 and phished.json()["code"] == "passkey_failed"
        begun = _options(http, other)
        elsewhere = _sign_in(http, other, begun["handle"], key.assert_(begun["options"], ORIGIN))
        assert elsewhere.status_code == 400
        foreign = http.post("/auth/passkey/options", json={"site": site},
                            headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
        # A registration needs the account's own session.
        nobody = http.post("/api/account/passkeys/options", params={"site": site},
                           headers={"Origin": ORIGIN})
        assert nobody.status_code == 401


def test_a_removed_passkey_signs_no_one_in(server: LiveServer, site: str) -> None:
    token, _ = _reader(server, site)
    key = SoftAuthenticator()
    headers = {"Origin": ORIGIN, "X-Rostra-Session": token}
    with server.client() as http:
        passkey_id = _register(http, site, token, key).json()["id"]
        gone = http.delete(f"/api/account/passkeys/{passkey_id}", params={"site": site},
                           headers=headers)
        assert gone.status_code == 204
        again = http.delete(f"/api/account/passkeys/{passkey_id}", params={"site": site},
                            headers=headers)
        assert again.status_code == 404 and again.json()["code"] == "passkey_not_found"
        begun = _options(http, site)
        refused = _sign_in(http, site, begun["handle"], key.assert_(begun["options"], ORIGIN))
        assert refused.status_code == 400


def test_a_site_may_turn_passkeys_off(server: LiveServer) -> None:
    site = server.add_site("k" + secrets.token_hex(5), [ORIGIN],
                           sign_in={"passkeys": False})
    with server.client() as http:
        refused = http.post("/auth/passkey/options", json={"site": site},
                            headers={"Origin": ORIGIN})
        assert refused.status_code == 403 and refused.json()["code"] == "passkeys_off"
        assert http.get("/auth/providers", params={"site": site}).json()["passkeys"] is False


def test_erasure_removes_the_passkeys(server: LiveServer, site: str) -> None:
    from rostra.services.personal_data import PersonalData

    token, email = _reader(server, site)
    key = SoftAuthenticator()
    with server.client() as http:
        assert _register(http, site, token, key).status_code == 201
        people = PersonalData(server.services.comments)
        exported = people.export(email)
        assert [k["name"] for k in exported["accounts"][0]["passkeys"]] == ["My laptop"]
        people.forget(email, actor="test")
        begun = _options(http, site)
        assert _sign_in(http, site, begun["handle"],
                        key.assert_(begun["options"], ORIGIN)).status_code == 400


def test_sign_in_ceremonies_are_rate_limited() -> None:
    from tests.conftest import running_server

    with running_server("sqlite", rate_limits=True) as live:
        site = live.add_site("k" + secrets.token_hex(5), [ORIGIN])
        with live.client() as http:
            answers = [http.post("/auth/passkey/options", json={"site": site}, headers={
                "Origin": ORIGIN, "X-Forwarded-For": "198.51.100.9"}).status_code
                for _ in range(21)]
            assert answers[:20] == [200] * 20 and answers[20] == 429
            other = http.post("/auth/passkey/options", json={"site": site}, headers={
                "Origin": ORIGIN, "X-Forwarded-For": "198.51.100.10"})
            assert other.status_code == 200


def test_a_malformed_answer_is_refused_not_a_crash(server: LiveServer, site: str) -> None:
    with server.client() as http:
        for credential in ({"id": "AAAA", "response": 5}, {"id": "AAAA", "n": 2 ** 70},
                           {"id": "!!", "response": {"clientDataJSON": []}}):
            begun = _options(http, site)
            answer = _sign_in(http, site, begun["handle"], credential)
            assert answer.status_code == 400, answer.text
