"""A reader's passkey ceremonies survive a deadlock or a connection lost on a statement
(a PostgreSQL restart or failover): keeping a challenge, using it up, registering the
passkey, counting its use at sign-in and removing it each ran outside ``attempts`` and
answered 500. Each now runs again, once; the whole ceremony then goes on as usual."""

from __future__ import annotations

import secrets

import pytest

from tests.api.test_passkeys import ORIGIN, _options, _reader, _register, _sign_in
from tests.conftest import CONNECTION_LOST, DEADLOCK, LiveServer, first_try_fails
from tests.webauthn_soft import SoftAuthenticator

pytestmark = pytest.mark.postgres

STEPS = {  # the write each step makes, failing at its first try
    "keeping a challenge": ("INSERT", "webauthn_challenges"),
    "using it up": ("DELETE", "webauthn_challenges"),
    "registering": ("INSERT", "passkeys"),
    "counting its use": ("UPDATE", "passkeys"),
    "removing": ("DELETE", "passkeys"),
}


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("failure", [DEADLOCK, CONNECTION_LOST],
                         ids=["deadlock", "lost on the statement"])
def test_each_write_of_a_passkey_ceremony_runs_again(
    pg_live_server: LiveServer, failure: str, step: str,
) -> None:
    server = pg_live_server
    site = server.add_site("k" + secrets.token_hex(5), [ORIGIN])
    token, _ = _reader(server, site)
    key = SoftAuthenticator()
    event, table = STEPS[step]
    headers = {"Origin": ORIGIN, "X-Rostra-Session": token}
    with server.client() as http, first_try_fails(server, event, "true", failure,
                                                  table=table) as tried:
        added = _register(http, site, token, key)
        assert added.status_code == 201, added.text
        begun = _options(http, site)
        signed = _sign_in(http, site, begun["handle"], key.assert_(begun["options"], ORIGIN))
        assert signed.status_code == 200, signed.text
        gone = http.delete(f"/api/account/passkeys/{added.json()['id']}",
                           params={"site": site}, headers=headers)
        assert gone.status_code == 204, gone.text
        assert tried() >= 2  # the first failed, and it ran again (later ones count too)
        later = _options(http, site)
        refused = _sign_in(http, site, later["handle"], key.assert_(later["options"], ORIGIN))
        assert refused.status_code == 400, refused.text  # removed: it signs no one in
