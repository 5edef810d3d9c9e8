"""A reader's session survives a deadlock or a lost connection (a PostgreSQL restart or
failover) in its writes: the note of when it was last seen, written now and then by
whatever request the reader makes (a post, say), made that request answer 500; and
signing out of one browser or all of them did too, and so did opening one (an OIDC or
passkey sign-in). Each runs again; all but the opening also after a COMMIT lost with
its connection (each done twice is done once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from rostra.store.account_tables import reader_sessions
from tests.api.test_reader_sessions import _account, _post, _session, _site
from tests.conftest import CONNECTION_LOST, DEADLOCK, ORIGIN, LiveServer, first_try_fails

pytestmark = pytest.mark.postgres

FAILURES = [(DEADLOCK, False), (CONNECTION_LOST, False), (CONNECTION_LOST, True)]
IDS = ["deadlock", "lost on the statement", "lost at commit"]


def _seen_long_ago(live: LiveServer) -> None:
    with live.services.db.write() as conn:
        conn.execute(update(reader_sessions).values(
            seen_at=datetime.now(UTC) - timedelta(hours=1)))


@pytest.mark.parametrize("live", ["postgres"], indirect=True)
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_a_post_survives_a_failed_note_of_its_session_being_seen(
    live: LiveServer, failure: str, at_commit: bool,
) -> None:
    site = _site(live)
    token = _session(live, site)
    _seen_long_ago(live)
    with live.client() as http, first_try_fails(
            live, "UPDATE", "NEW.seen_at > OLD.seen_at", failure, table="reader_sessions",
            at_commit=at_commit) as tried:
        posted = _post(http, site, token)
        assert tried() == 2
    assert posted.status_code == 201, posted.text
    assert posted.json()["comment"]["author"]["name"] == "Olga Provider"


@pytest.mark.parametrize("live", ["postgres"], indirect=True)
@pytest.mark.parametrize("everywhere", [False, True], ids=["this browser", "everywhere"])
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_signing_out_runs_again(
    live: LiveServer, failure: str, at_commit: bool, everywhere: bool,
) -> None:
    site = _site(live)
    token, other = _session(live, site), _session(live, site)
    with live.client() as http:
        sessions = _account(http, site, token).json()["sessions"]
        [current] = [s["id"] for s in sessions if s["current"]]
        with first_try_fails(live, "DELETE", f"OLD.id = {current}", failure,
                             table="reader_sessions", at_commit=at_commit) as tried:
            headers = {"Origin": ORIGIN, "X-Rostra-Session": token}
            ended = (http.post("/api/account/sign-out", params={"site": site},
                               headers=headers, json={"everywhere": True}) if everywhere else
                     http.delete(f"/api/account/sessions/{current}", params={"site": site},
                                 headers=headers))
            assert tried() == 2
        assert ended.status_code in (200, 204), ended.text
        assert _account(http, site, token).status_code == 401
        assert (_account(http, site, other).status_code == 401) == everywhere


@pytest.mark.parametrize("live", ["postgres"], indirect=True)
@pytest.mark.parametrize("failure", [DEADLOCK, CONNECTION_LOST], ids=IDS[:2])
def test_a_sign_in_survives_a_failed_write_of_its_session(
    live: LiveServer, failure: str,
) -> None:
    # (Not after a COMMIT lost with its connection: the session's token is made once.)
    site = _site(live)
    with first_try_fails(live, "INSERT", f"NEW.site_id = '{site}'", failure,
                         table="reader_sessions") as tried:
        token = _session(live, site)
        assert tried() == 2
    with live.client() as http:
        assert _account(http, site, token).status_code == 200
