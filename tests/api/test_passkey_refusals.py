"""What a reader's passkey registration refuses (SQLite and PostgreSQL): the same key
twice, an answer that does not check, one for another page, one too large."""

from __future__ import annotations

import httpx

from tests.api.test_passkeys import ORIGIN, _reader, _register
from tests.conftest import LiveServer
from tests.webauthn_soft import SoftAuthenticator


def _passkeys(http: httpx.Client, site: str, token: str) -> list[str]:
    me = http.get("/api/account", params={"site": site},
                  headers={"Origin": ORIGIN, "X-Rostra-Session": token})
    assert me.status_code == 200, me.text
    return [k["name"] for k in me.json()["passkeys"]]


def _begin(http: httpx.Client, site: str, token: str) -> tuple[str, dict[str, object]]:
    begun = http.post("/api/account/passkeys/options", params={"site": site},
                      headers={"Origin": ORIGIN, "X-Rostra-Session": token})
    assert begun.status_code == 200, begun.text
    return begun.json()["handle"], begun.json()["options"]


def _answer(http: httpx.Client, site: str, token: str, handle: str,
            credential: object) -> httpx.Response:
    return http.post("/api/account/passkeys", params={"site": site},
                     headers={"Origin": ORIGIN, "X-Rostra-Session": token},
                     json={"handle": handle, "credential": credential, "name": "Key"})


def test_the_same_passkey_is_registered_once(server: LiveServer, site: str) -> None:
    token, _ = _reader(server, site)
    key = SoftAuthenticator()
    with server.client() as http:
        assert _register(http, site, token, key).status_code == 201
        again = _register(http, site, token, key)
        assert again.status_code == 400
        assert again.json()["detail"] == "this passkey is registered already"
        assert _passkeys(http, site, token) == ["My laptop"]


def test_an_answer_that_does_not_check_registers_nothing(server: LiveServer, site: str) -> None:
    token, _ = _reader(server, site)
    key = SoftAuthenticator()
    with server.client() as http:
        handle, options = _begin(http, site, token)
        elsewhere = _answer(http, site, token, handle,
                            key.register(options, "https://evil.example"))
        assert elsewhere.status_code == 400
        assert elsewhere.json()["detail"].startswith("the passkey could not be checked: ")
        handle, options = _begin(http, site, token)
        huge = key.register(options, ORIGIN)
        huge["padding"] = "x" * (64 * 1024)
        too_large = _answer(http, site, token, handle, huge)
        assert too_large.status_code == 400
        assert too_large.json()["detail"] == "the passkey answer is too large"
        handle, _ = _begin(http, site, token)
        not_one = _answer(http, site, token, handle, {"type": "public-key", "id": 7})
        assert not_one.status_code == 400
        assert not_one.json()["detail"] == "not a passkey answer"
        assert _passkeys(http, site, token) == []
