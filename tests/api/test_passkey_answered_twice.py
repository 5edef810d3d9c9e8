"""One passkey challenge signs in once, and a passkey's count of uses never goes back
(PostgreSQL, where two requests run side by side). The challenge was read, then deleted:
the same answer sent twice at once (a replay racing the real one) was taken by both
and opened two sessions. And of two sign-ins at once, the one with the lower count
could write it last: the count went back, and a cloned key's replayed counts with it."""

from __future__ import annotations

import secrets

import httpx
import pytest
from sqlalchemy import select

from rostra.services.passkeys import _hash
from rostra.store.passkey_tables import passkeys
from tests.api.test_passkeys import ORIGIN, _options, _reader, _register, _sign_in
from tests.conftest import LiveServer, side_by_side
from tests.webauthn_soft import SoftAuthenticator

pytestmark = pytest.mark.postgres


def _a_passkey(server: LiveServer, http: httpx.Client) -> tuple[str, SoftAuthenticator, int]:
    """A new site, a reader of it with a passkey: (site, the key, the passkey's id)."""
    site = server.add_site("k" + secrets.token_hex(5), [ORIGIN])
    token, _ = _reader(server, site)
    key = SoftAuthenticator()
    added = _register(http, site, token, key)
    assert added.status_code == 201, added.text
    return site, key, int(added.json()["id"])


def _count(server: LiveServer, passkey_id: int) -> int:
    with server.services.db.read() as conn:
        return int(conn.scalar(select(passkeys.c.sign_count)
                               .where(passkeys.c.id == passkey_id)) or 0)


def test_one_answer_sent_twice_at_once_signs_in_once(pg_live_server: LiveServer) -> None:
    server = pg_live_server
    with server.client() as http, server.client() as replay:
        site, key, passkey_id = _a_passkey(server, http)
        begun = _options(http, site)
        answer = key.assert_(begun["options"], ORIGIN)
        # Both wait on the challenge's row, then go one after the other.
        signed = side_by_side(
            server, "SELECT id FROM webauthn_challenges WHERE id = :id FOR UPDATE",
            {"id": _hash(begun["handle"])},
            [lambda c=c: _sign_in(c, site, begun["handle"], answer) for c in (http, replay)])
    assert sorted(r.status_code for r in signed) == [200, 400], [r.text for r in signed]
    assert _count(server, passkey_id) == key.counter


def test_two_sign_ins_at_once_leave_the_higher_count(pg_live_server: LiveServer) -> None:
    server = pg_live_server
    with server.client() as http, server.client() as other:
        site, key, passkey_id = _a_passkey(server, http)
        first, second = _options(http, site), _options(other, site)
        lower = key.assert_(first["options"], ORIGIN)
        higher = key.assert_(second["options"], ORIGIN)
        # Both checked against the count before either; the higher one writes first.
        signed = side_by_side(
            server, "SELECT id FROM passkeys WHERE id = :id FOR UPDATE", {"id": passkey_id},
            [lambda: _sign_in(other, site, second["handle"], higher),
             lambda: _sign_in(http, site, first["handle"], lower)], in_order=True)
    assert [r.status_code for r in signed] == [200, 200], [r.text for r in signed]
    assert _count(server, passkey_id) == key.counter == 2
