"""An author's record with a site's moderators (``author_stats``: approved, rejected,
spam), which earned trust and reputation read, counts each comment a decision changed
once: a moderator making again the decision they made on a comment nothing changed
since (a second click, another tab) adds nothing. Approving a published comment counts
(on a site that publishes at once it is how an author earns trust), once."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from rostra.store.moderation_tables import author_stats
from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site


def record(server: LiveServer, site: str) -> tuple[int, int, int]:
    with server.services.db.read() as conn:
        row = conn.execute(select(author_stats.c.approved, author_stats.c.rejected,
                                  author_stats.c.spam)
                           .where(author_stats.c.site_id == site)).first()
    return (0, 0, 0) if row is None else tuple(row)  # type: ignore[return-value]


def decide(http: httpx.Client, comment_id: int, action: str) -> None:
    done = http.post(f"/api/moderation/comments/{comment_id}/{action}", headers=STAFF,
                     json={"reason": "as the rules say"})
    assert done.status_code == 200, done.text


def test_deciding_again_what_a_comment_is_counts_nothing(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    rude = ana.post("/story", "A comment a moderator will take down twice.").json()
    decide(http, rude["comment"]["id"], "reject")
    assert record(mserver, site) == (0, 1, 0)
    decide(http, rude["comment"]["id"], "reject")  # a second click, another tab
    assert record(mserver, site) == (0, 1, 0)

    fine = ana.post("/story", "A comment nobody reported.").json()["comment"]["id"]
    decide(http, fine, "approve")  # published already: a moderator's endorsement
    assert record(mserver, site) == (1, 1, 0)
    decide(http, fine, "approve")
    assert record(mserver, site) == (1, 1, 0)


def test_a_decision_that_answers_reports_still_counts(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver)
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    kept = ana.post("/story", "A comment a reader reports and a moderator keeps.").json()
    ben.post("/other", "Hello from Ben.")
    flagged = http.post(f"/api/comments/{kept['comment']['id']}/flag", headers=ben.headers(),
                        json={"reason": "abuse", "note": "rude"})
    assert flagged.status_code == 202, flagged.text
    decide(http, kept["comment"]["id"], "approve")  # reviewed: it stays, to its credit
    assert record(mserver, site) == (1, 0, 0)
    decide(http, kept["comment"]["id"], "reject")  # and changed later: counted too
    assert record(mserver, site) == (1, 1, 0)
