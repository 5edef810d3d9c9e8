"""The toxicity check's lighter paths with the real classifier on, through HTTP: a site
that turned the check off, swearing at no one (nudged once, then published; never asked
of a trusted author), and abuse between a site's nudge and hold lines sent anyway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rostra.moderation.toxicity.heads import MODEL_PATH
from tests.conftest import LiveServer, Reader, _start_live_server, require
from tests.moderation.conftest import ADMIN_TOKEN, STAFF, new_site

# Scored by the shipped model: strong language 0.955, abuse 0.39 (no one is insulted).
SWEARING = "What a fucking brilliant goal, holy shit!"
# Abuse 0.75, strong language 0.83: under the default nudge line (0.79), over 0.70.
GRUMBLE = "This damn printer is shit."
INSULT = "You are an idiot."


@pytest.fixture(scope="module")
def cserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require(Path(MODEL_PATH).exists(), "no shipped toxicity model")
    path = tmp_path_factory.mktemp("nudges") / "rostra.sqlite3"
    live, server = _start_live_server(f"sqlite:///{path}", "sqlite", classifier="cascade",
                                      admin_token=ADMIN_TOKEN)
    yield live
    server.stop()


@pytest.fixture
def chttp(cserver: LiveServer) -> Iterator[httpx.Client]:
    with cserver.client() as client:
        yield client


def moderation(chttp: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    comment_id = response.json()["comment"]["id"]
    stored = chttp.get(f"/api/moderation/comments/{comment_id}", headers=STAFF).json()
    result: dict[str, Any] = stored["comment"]["moderation"]
    return result


def test_a_site_without_the_toxicity_check_publishes_an_insult_unscored(
    cserver: LiveServer, chttp: httpx.Client
) -> None:
    site = new_site(cserver, toxicity=False)
    posted = Reader("Ana", chttp, site).post("/story", INSULT)
    assert posted.json()["comment"]["state"] == "approved"
    record = moderation(chttp, posted)
    assert record["reasons"] == [] and "toxicity" not in record["facts"]


def test_swearing_at_no_one_is_nudged_once_then_published(
    cserver: LiveServer, chttp: httpx.Client
) -> None:
    site = new_site(cserver)
    ben = Reader("Ben", chttp, site)
    nudged = ben.post("/story", SWEARING)
    assert nudged.status_code == 422 and nudged.json()["reasons"] == ["nudge"]
    sent = ben.post("/story", SWEARING, nudge_acknowledged=True)
    assert sent.json()["comment"]["state"] == "approved"
    reasons = moderation(chttp, sent)["reasons"]
    assert [(r["check"], r["code"]) for r in reasons] == [("toxicity", "nudge_acknowledged")]
    assert reasons[0]["message"].startswith("strong language 0.9")


def test_a_trusted_author_is_not_asked_about_strong_language(
    cserver: LiveServer, chttp: httpx.Client
) -> None:
    site = new_site(cserver, mode="all", trust={"trusted_after": 1})
    dee = Reader("Dee", chttp, site)
    first = dee.post("/t", "My first comment waits for a moderator to approve it.")
    assert first.json()["comment"]["state"] == "pending"
    approved = chttp.post(f"/api/moderation/comments/{first.json()['comment']['id']}/approve",
                          headers=STAFF)
    assert approved.status_code == 200, approved.text
    trusted = dee.post("/t", SWEARING)
    assert trusted.json()["comment"]["state"] == "approved"
    record = moderation(chttp, trusted)
    assert record["facts"]["trust"]["level"] == "trusted"
    assert record["facts"]["toxicity_classes"]["profanity"] >= 0.705
    assert all(r["check"] != "toxicity" for r in record["reasons"])


def test_abuse_under_a_sites_hold_line_is_published_once_the_author_insists(
    cserver: LiveServer, chttp: httpx.Client
) -> None:
    site = new_site(cserver, thresholds={"toxicity_nudge": 0.7})
    cy = Reader("Cy", chttp, site)
    nudged = cy.post("/story", GRUMBLE)
    assert nudged.status_code == 422 and nudged.json()["reasons"] == ["nudge"]
    sent = cy.post("/story", GRUMBLE, nudge_acknowledged=True)
    assert sent.json()["comment"]["state"] == "approved"
    reasons = moderation(chttp, sent)["reasons"]
    assert [(r["check"], r["code"]) for r in reasons] == [("toxicity", "nudge_acknowledged")]
    assert reasons[0]["message"].endswith("the author was nudged and sent it anyway")
    assert reasons[0]["message"].startswith("toxicity 0.7")
