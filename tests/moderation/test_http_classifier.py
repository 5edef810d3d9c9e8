"""The classifier in the pipeline, end to end (a few tests: the model and encoders are real)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rostra.moderation.toxicity.heads import MODEL_PATH
from tests.conftest import LiveServer, Reader, _start_live_server, require
from tests.moderation.conftest import ADMIN_TOKEN, STAFF, new_site

pytestmark = pytest.mark.slow

TOXIC = "You are a worthless idiot and everyone here hopes you shut up for good."
CIVIL = "I disagree with the council's decision; the budget figures do not add up."
THREAT = "I know where you live and I will come and break your legs, you traitor."
SPAM = ("Make $500 a day from home!!! No experience needed, click www.fast-cash-now.example "
        "and start earning today, limited places, WhatsApp +44 7700 900123")


@pytest.fixture(scope="module")
def cserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require(Path(MODEL_PATH).exists(), "no shipped toxicity model")
    path = tmp_path_factory.mktemp("classifier") / "rostra.sqlite3"
    live, server = _start_live_server(f"sqlite:///{path}", "sqlite", classifier="cascade",
                                      admin_token=ADMIN_TOKEN)
    yield live
    server.stop()


@pytest.fixture
def chttp(cserver: LiveServer) -> Iterator[httpx.Client]:
    with cserver.client() as client:
        yield client


def record(chttp: httpx.Client, comment_id: int) -> dict:  # type: ignore[type-arg]
    return chttp.get(f"/api/moderation/comments/{comment_id}", headers=STAFF).json()["comment"]


def test_it_nudges_then_holds_an_insult_and_keeps_why(cserver: LiveServer, chttp: httpx.Client) -> None:
    # No refusal line, so the insult takes the nudge-then-hold path whatever its score.
    site = new_site(cserver, thresholds={"toxicity_refuse": 1.0})
    ana = Reader("Ana", chttp, site)
    nudged = ana.post("/story", TOXIC)
    assert nudged.status_code == 422 and nudged.json()["reasons"] == ["nudge"]
    assert "rephrase" in nudged.json()["detail"]
    held = ana.post("/story", TOXIC, nudge_acknowledged=True)
    assert held.status_code == 201 and held.json()["comment"]["state"] == "pending"
    assert held.json()["moderation"]["reasons"] == ["toxic"]
    stored = record(chttp, held.json()["comment"]["id"])
    reason = stored["moderation"]["reasons"][0]
    assert reason["check"] == "toxicity" and "insult" in reason["message"]
    facts = stored["moderation"]["facts"]
    assert facts["language"] == "en" and facts["toxicity"] == reason["score"]
    assert max(("threat", "identity_hate", "insult"), key=facts["toxicity_classes"].get) == "insult"
    assert facts["toxicity_evidence"]["class"] == "insult"
    assert {"idiot", "worthless"} & set(facts["toxicity_evidence"]["words"])
    assert stored["has_embedding"] is True
    civil = ana.post("/story", CIVIL)
    assert civil.status_code == 201 and civil.json()["comment"]["state"] == "approved"
    # A published comment keeps its class scores too, but costs no explanation.
    assert "toxicity_evidence" not in record(chttp, civil.json()["comment"]["id"])["moderation"]["facts"]


def test_it_holds_a_threat_without_asking_first(cserver: LiveServer, chttp: httpx.Client) -> None:
    site = new_site(cserver)
    held = Reader("Ben", chttp, site).post("/story", THREAT)
    assert held.status_code in (201, 422), held.json()
    if held.status_code == 422:  # over the refusal line: refused outright, never nudged
        assert held.json()["reasons"] == ["toxic"]
        return
    assert held.json()["comment"]["state"] == "pending"
    assert held.json()["moderation"]["reasons"][0] in ("threat", "toxic")


def test_it_files_an_advert_as_spam(cserver: LiveServer, chttp: httpx.Client) -> None:
    site = new_site(cserver)
    posted = Reader("Cy", chttp, site).post("/story", SPAM)
    assert posted.status_code == 201
    stored = record(chttp, posted.json()["comment"]["id"])
    assert stored["state"] == "spam" and "spam_score" in [r["code"] for r in stored["moderation"]["reasons"]]
    assert stored["moderation"]["facts"]["toxicity_evidence"]["class"] == "spam"


def test_it_lets_short_and_blunt_civil_comments_through(cserver: LiveServer, chttp: httpx.Client) -> None:
    site = new_site(cserver)
    for i, text in enumerate(("Nice one.", "Súhlasím.", "LOL", "A first look.", "What a mess.",
                              "What a mess the diversions were.",
                              "I hate waiting for the ferry in the rain.",
                              "This government is a disgrace.")):
        posted = Reader(f"R{i}", chttp, site).post("/short", text)
        assert posted.status_code == 201, (text, posted.json())
        assert posted.json()["comment"]["state"] == "approved", text
    for text in ("You moron.", "Du Idiot!"):
        stopped = Reader("Ben", chttp, site).post("/short", text)
        # Nudged, or refused outright when the score reaches the refusal line.
        assert stopped.status_code == 422, text
        assert stopped.json()["reasons"] in (["nudge"], ["toxic"]), text


def test_a_sites_moderators_move_its_scores(cserver: LiveServer, chttp: httpx.Client) -> None:
    site = new_site(cserver, thresholds={"toxicity_nudge": 1.0, "toxicity_hold": 1.0,
                                         "toxicity_refuse": 1.0, "threat_hold": 1.0,
                                         "identity_hate_hold": 1.0, "profanity_nudge": 1.0})
    text = "The mayor is a clown and this paper is a rag for clowns."
    readers = [Reader(f"R{i}", chttp, site) for i in range(8)]
    first = record(chttp, readers[0].post("/story", text).json()["comment"]["id"])
    before = float(first["moderation"]["facts"]["toxicity"])
    # This site's moderators reject that kind of talk, again and again.
    for i, r in enumerate(readers[1:]):
        comment_id = r.post(f"/story/{i}", f"{text} Number {i}.").json()["comment"]["id"]
        assert chttp.post(f"/api/moderation/comments/{comment_id}/reject", headers=STAFF,
                          json={"reason": "insults"}).status_code == 200
    after_id = readers[0].post("/story/next", text + " Again.").json()["comment"]["id"]
    assert float(record(chttp, after_id)["moderation"]["facts"]["toxicity"]) > before
