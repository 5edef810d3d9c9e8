"""An erased reader's account id is never given to somebody else. Bans of an account,
reputation, votes and flags are kept under "a:<account id>", and a ban placed from the
person's comment stays in force after `rostra privacy forget`. On SQLite the accounts'
ids were rowids, which SQLite hands out again once the newest row is deleted: the next
reader to sign in after an erasure got the erased person's id, and with it their ban."""

from __future__ import annotations

import secrets

import httpx
from click.testing import CliRunner

from rostra.cli import main
from tests.api.test_sso import signed
from tests.conftest import ORIGIN, LiveServer
from tests.moderation.conftest import STAFF, new_site


def _post(http: httpx.Client, site: str, sso: str, text: str) -> httpx.Response:
    return http.post("/api/comments", headers={"Origin": ORIGIN, "X-Rostra-SSO": sso},
                     json={"site": site, "thread": "/story", "text": text})


def test_it_gives_the_next_reader_a_new_account_not_the_erased_and_banned_one(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver)
    secret = mserver.services.accounts.make_secret(site)
    email = f"ana-{secrets.token_hex(4)}@example.org"
    hers = _post(http, site, signed(secret, id="ana", name="Ana", email=email),
                 "A comment that earns her account a ban.")
    assert hers.status_code == 201, hers.text
    banned = http.post("/api/moderation/bans", headers=STAFF, json={
        "site": site, "kind": "account", "comment_id": hers.json()["comment"]["id"],
        "reason": "abuse"})
    assert banned.status_code == 201, banned.text

    done = CliRunner().invoke(main, ["--database-url", mserver.settings.database_url,
                                     "privacy", "forget", email, "--yes"])
    assert done.exit_code == 0, done.output
    assert "1 sign-on account(s)" in done.output

    # Ben, a reader the site never banned, signs in for the first time.
    his = _post(http, site, signed(secret, id=f"ben-{secrets.token_hex(4)}", name="Ben",
                                   email=f"ben-{secrets.token_hex(4)}@example.org"),
                "My first comment here.")
    assert his.status_code == 201, his.text
    assert his.json()["comment"]["state"] == "approved"
