"""An erased reader's account id is never given to somebody else. Bans of an account,
reputation, votes and flags are kept under "a:<account id>", and a ban placed from the
person's comment stays in force after `rostra privacy forget`. On SQLite the accounts'
ids were rowids, which SQLite hands out again once the newest row is deleted: the next
reader to sign in after an erasure got the erased person's id, and with it their ban."""

from __future__ import annotations

import json
import secrets
import time

import httpx
from click.testing import CliRunner
from sqlalchemy import select

from rostra.cli import main
from rostra.store.account_tables import reader_accounts
from rostra.store.tables import comments
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


def test_a_reader_erased_by_the_command_signs_in_to_a_new_account_on_the_server(
    mserver: LiveServer, http: httpx.Client
) -> None:
    # The server remembers a signed-in reader for minutes. `rostra privacy forget` runs
    # in another process: the server went on using the erased account's id for the
    # person's next payloads, posting under an account that no longer exists and making
    # none, so an export of the address listed no account, and a second erasure could
    # not find what they posted signed in.
    site = new_site(mserver)
    secret = mserver.services.accounts.make_secret(site)
    email = f"ana-{secrets.token_hex(4)}@example.org"
    ana = signed(secret, id="ana", name="Ana", email=email)
    assert _post(http, site, ana, "Before the erasure.").status_code == 201
    with mserver.services.db.read() as conn:
        erased = conn.execute(select(reader_accounts.c.id).where(
            reader_accounts.c.site_id == site)).scalar_one()
    cli = ["--database-url", mserver.settings.database_url, "privacy"]
    done = CliRunner().invoke(main, [*cli, "forget", email, "--yes"])
    assert done.exit_code == 0, done.output

    # The change bus tells the server (SQLite's within a second).
    deadline = time.monotonic() + 10
    while mserver.services.accounts.get(erased) is not None:
        assert time.monotonic() < deadline, "the server still knows the erased account"
        time.sleep(0.05)
    again = _post(http, site, ana, "After the erasure, signed in again.")
    assert again.status_code == 201, again.text
    exported = json.loads(CliRunner().invoke(main, [*cli, "export", email]).output)
    assert [(a["site"], a["id"]) for a in exported["accounts"]] == [(site, "ana")]
    with mserver.services.db.read() as conn:
        account = conn.execute(select(comments.c.account_id).where(
            comments.c.id == again.json()["comment"]["id"])).scalar_one()
    assert account is not None and account != erased
