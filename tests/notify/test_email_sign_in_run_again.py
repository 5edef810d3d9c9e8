"""Each step of signing in with an email link survives a deadlock or a connection lost
on a statement (a PostgreSQL restart or failover): asking for the link, following it
and trading its code for a session ran outside ``attempts`` and answered 500 — and a
link whose second write failed stayed used with no code, so the reader could not sign
in with it at all. Each step runs again (not after a COMMIT lost with its connection:
a link or a code is used once)."""

from __future__ import annotations

import pytest

from tests.conftest import CONNECTION_LOST, DEADLOCK, first_try_fails
from tests.notify.conftest import NotifyServer, address
from tests.notify.test_email_sign_in import ask, code_of, follow, mailed_link, trade

pytestmark = pytest.mark.postgres

FAILURES = [DEADLOCK, CONNECTION_LOST]
IDS = ["deadlock", "lost on the statement"]
LINKS = "reader_sign_in_links"


@pytest.mark.parametrize("notify_auto", ["postgres"], indirect=True)
@pytest.mark.parametrize("step", ["asking", "following", "naming the code", "trading"])
@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_each_step_of_an_email_sign_in_runs_again(
    notify_auto: NotifyServer, failure: str, step: str,
) -> None:
    server = notify_auto
    site, email = server.new_site(), address()
    fails = {  # the write each step makes, failing at its first try
        "asking": ("INSERT", f"NEW.email = '{email}'"),
        "following": ("UPDATE", f"NEW.email = '{email}' AND OLD.used_at IS NULL "
                                "AND NEW.used_at IS NOT NULL"),
        "naming the code": ("UPDATE", f"NEW.email = '{email}' AND OLD.code_hash IS NULL "
                                      "AND NEW.code_hash IS NOT NULL"),
        "trading": ("UPDATE", f"NEW.email = '{email}' AND OLD.code_hash IS NOT NULL "
                              "AND NEW.code_hash IS NULL"),
    }
    event, condition = fails[step]
    with server.live.client() as http, first_try_fails(
            server.live, event, condition, failure, table=LINKS) as tried:
        asked = ask(http, site, email)
        assert asked.status_code == 202, asked.text
        code = code_of(follow(http, server, mailed_link(server, email)))
        session = trade(http, site, code)
        assert session.status_code == 200, session.text
        assert tried() == 2
