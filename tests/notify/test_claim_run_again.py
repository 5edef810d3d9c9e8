"""A signed-in reader claiming the comments they wrote anonymously under their verified
address survives a deadlock or a connection lost on its statement (a PostgreSQL restart
or failover): it ran outside ``attempts`` and answered 500. It now runs again once (not
after a COMMIT lost with its connection: the second try would answer 0)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rostra.store.tables import comments
from tests.conftest import CONNECTION_LOST, DEADLOCK, ORIGIN, first_try_fails
from tests.notify.conftest import NotifyServer, address
from tests.notify.test_email_sign_in import ask, code_of, follow, mailed_link, trade

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("notify_auto", ["postgres"], indirect=True)
@pytest.mark.parametrize("failure", [DEADLOCK, CONNECTION_LOST],
                         ids=["deadlock", "lost on the statement"])
def test_claiming_earlier_comments_runs_again(notify_auto: NotifyServer, failure: str) -> None:
    server = notify_auto
    site, email = server.new_site(), address()
    with server.live.client() as http:
        earlier = [http.post("/api/comments", headers={"Origin": ORIGIN}, json={
            "site": site, "thread": "/claim/", "text": f"Before I had an account, {n}",
            "name": "Mila", "email": email}) for n in range(2)]
        assert all(e.status_code == 201 for e in earlier), [e.text for e in earlier]
        assert ask(http, site, email).status_code == 202
        session = trade(http, site, code_of(follow(http, server, mailed_link(server, email))))
        assert session.status_code == 200, session.text
        headers = {"Origin": ORIGIN, "X-Rostra-Session": session.json()["session"]}
        with first_try_fails(server.live, "UPDATE", "OLD.account_id IS NULL AND "
                             "NEW.account_id IS NOT NULL", failure) as tried:
            claimed = http.post("/api/account/claim", params={"site": site}, headers=headers)
            assert tried() == 3  # the first row at the first try; both at the second
        assert claimed.status_code == 200 and claimed.json() == {"claimed": 2}, claimed.text
    with server.live.services.db.read() as conn:
        owners = set(conn.scalars(select(comments.c.account_id).where(
            comments.c.id.in_([e.json()["comment"]["id"] for e in earlier]))))
    assert len(owners) == 1 and None not in owners
