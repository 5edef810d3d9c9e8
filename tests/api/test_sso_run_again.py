"""A signed-in reader's account (single sign-on) is stored as their request comes in —
a post, a vote — and that write survives a deadlock or a lost connection (a PostgreSQL
restart or failover), even one lost at COMMIT (storing the account twice stores it
once). It ran outside ``attempts``: the reader's post answered 500."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

from rostra.store.account_tables import reader_accounts
from tests.api.test_sso import post, signed
from tests.conftest import CONNECTION_LOST, DEADLOCK, ORIGIN, LiveServer, first_try_fails

pytestmark = pytest.mark.postgres

FAILURES = [(DEADLOCK, False), (CONNECTION_LOST, False), (CONNECTION_LOST, True)]
IDS = ["deadlock", "lost on the statement", "lost at commit"]


@pytest.mark.parametrize("known", [False, True], ids=["new account", "known account"])
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_a_signed_in_readers_post_survives_a_failed_account_write(
    pg_live_server: LiveServer, failure: str, at_commit: bool, known: bool,
) -> None:
    server = pg_live_server
    site = server.add_site("s" + secrets.token_hex(5), [ORIGIN])
    secret = server.services.accounts.make_secret(site)
    subject = "reader-" + secrets.token_hex(4)
    with server.client() as http:
        if known:  # the account exists; the post brings a new name (an UPDATE)
            first = post(http, site, "/signed/", "Before", signed(secret, id=subject,
                                                                  name="Old Name"))
            assert first.status_code == 201, first.text
        event = "UPDATE" if known else "INSERT"
        with first_try_fails(server, event, f"NEW.site_id = '{site}'", failure,
                             table="reader_accounts", at_commit=at_commit) as tried:
            response = post(http, site, "/signed/", "Signed in",
                            signed(secret, id=subject, name="New Name"))
            assert tried() == 2
    assert response.status_code == 201, response.text
    assert response.json()["comment"]["author"]["name"] == "New Name"
    with server.services.db.read() as conn:
        accounts = conn.scalar(select(func.count()).select_from(reader_accounts)
                               .where(reader_accounts.c.site_id == site))
    assert accounts == 1
