"""A reader's context notes within bounds (SQLite and PostgreSQL): sources readers can
follow, ten proposals a day."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import new_site
from tests.moderation.test_context_notes import Member


def _setup(mserver: LiveServer, http: httpx.Client) -> tuple[Member, int]:
    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    comment_id = ana.post("/council", "The council never voted on the budget.") \
        .json()["comment"]["id"]
    secret = mserver.services.accounts.make_secret(site)
    return Member(http, secret, "m" + secrets.token_hex(4), "198.51.100.77"), comment_id


@pytest.mark.parametrize(("source", "detail"), [
    ("https://records.example:99999/minutes", "sources: bad port in URL"),
    ("ftp://records.example/minutes", "sources: each one an http(s) address"),
], ids=["bad-port", "ftp"])
def test_it_refuses_a_source_readers_cannot_follow(mserver: LiveServer, http: httpx.Client,
                                                   source: str, detail: str) -> None:
    member, comment_id = _setup(mserver, http)
    refused = member.propose(comment_id, "Context", source)
    assert refused.status_code == 422
    assert refused.json()["field"] == "sources"
    assert refused.json()["detail"].startswith(detail)
    assert member.notes(comment_id)["notes"] == []


def test_a_reader_proposes_ten_notes_a_day(mserver: LiveServer, http: httpx.Client) -> None:
    member, comment_id = _setup(mserver, http)
    for n in range(10):
        made = member.propose(comment_id, f"Context number {n}", "https://records.example/m")
        assert made.status_code == 201, made.text
    eleventh = member.propose(comment_id, "One more", "https://records.example/m")
    assert eleventh.status_code == 429
    assert eleventh.json()["detail"] == "at most 10 context notes a day; please wait"
