"""Spending a proof-of-work challenge survives a deadlock or a connection lost on its
statement (PostgreSQL restarting in the spam wave the puzzle was turned on for): it ran
outside ``attempts``, and the reader's post, puzzle solved, answered 500. It now runs
again once, and a replay of the same answer is still refused."""

from __future__ import annotations

import pytest

from rostra.moderation.pow import solve
from tests.conftest import CONNECTION_LOST, DEADLOCK, LiveServer, first_try_fails
from tests.moderation.conftest import new_site
from tests.moderation.test_http_moderation import post

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("failure", [DEADLOCK, CONNECTION_LOST],
                         ids=["deadlock", "lost on the statement"])
def test_a_solved_puzzle_is_spent_at_the_second_try(
    mod_postgres: LiveServer, failure: str,
) -> None:
    server = mod_postgres
    site = new_site(server, pow={"mode": "always", "difficulty": 2000})
    with server.client() as http:
        answer = solve(http.get("/api/pow", params={"site": site}).json())
        with first_try_fails(server, "INSERT", "true", failure, table="pow_used") as tried:
            posted = post(http, site, "Puzzle solved, and the database restarting.",
                          pow=answer)
            assert tried() == 2
        assert posted.status_code == 201, posted.text
        replay = post(http, site, "The same answer again.", pow=answer)
        assert replay.status_code == 422 and replay.json()["reasons"] == ["pow_replayed"]
