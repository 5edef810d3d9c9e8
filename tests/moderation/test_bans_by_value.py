"""Bans placed by value (an email address, an address, a network) over the staff API, on
SQLite and PostgreSQL: each refuses the one author it names, and values of the wrong
kind are refused with what was expected."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site


def _ban(http: httpx.Client, site: str, kind: str, value: str) -> httpx.Response:
    return http.post("/api/moderation/bans", headers=STAFF, json={
        "site": site, "kind": kind, "value": value, "reason": "abuse"})


def test_a_ban_by_email_address_refuses_that_address_in_any_case(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver)
    placed = _ban(http, site, "email", "  Troll@Example.org ")
    assert placed.status_code == 201, placed.text
    ban = placed.json()["ban"]
    assert "troll@example.org" not in placed.text.lower()  # the address is not kept
    ana = Reader("Ana", http, site)
    refused = ana.post("/story", "A comment from the banned address.",
                       email="troll@EXAMPLE.org")
    assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]
    assert ana.post("/story", "A comment from another address.",
                    email="ana@example.org").status_code == 201
    lifted = http.delete(f"/api/moderation/bans/{ban['id']}", headers=STAFF)
    assert lifted.status_code == 200 and lifted.json()["ban"]["active"] is False
    assert ana.post("/story", "A comment from the banned address, once more.",
                    email="troll@example.org").status_code == 201


def test_a_ban_by_address_or_network_refuses_only_what_it_names(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver)
    assert _ban(http, site, "ip", "198.51.100.7").status_code == 201
    assert _ban(http, site, "range", "192.0.2.0/24").status_code == 201
    for ip, status in [("198.51.100.7", 422), ("198.51.100.8", 201), ("192.0.2.200", 422),
                       ("192.0.3.1", 201)]:
        reader = Reader("Ana", http, site, ip=ip)
        response = reader.post("/story", f"A comment written from {ip}.")
        assert response.status_code == status, (ip, response.text)


@pytest.mark.parametrize(("kind", "value", "detail"), [
    ("email", "troll.example.org", "value: an email address"),
    ("ip", "192.0.2.0/24", "value: a single IP address (use kind range for a network)"),
    ("range", "192.0.2.9", "value: a network such as 203.0.113.0/24"),
    ("ip", "not an address",
     "value: 'not an address' does not appear to be an IPv4 or IPv6 network"),
    ("account", "seventeen", "value: an account id"),
])
def test_it_refuses_a_ban_value_of_the_wrong_kind(
    mserver: LiveServer, http: httpx.Client, kind: str, value: str, detail: str
) -> None:
    site = new_site(mserver)
    refused = _ban(http, site, kind, value)
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith(detail)
    listed = http.get("/api/moderation/bans", headers=STAFF, params={"site": site, "all": "true"})
    assert listed.json()["bans"] == []


def test_it_answers_404_for_a_ban_that_does_not_exist(
    mserver: LiveServer, http: httpx.Client
) -> None:
    missing = http.delete("/api/moderation/bans/999999999", headers=STAFF)
    assert (missing.status_code, missing.json()["detail"]) == (404, "no ban with id 999999999")


def test_a_ban_by_comment_names_a_comment_of_that_site_and_what_it_has(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site, other = new_site(mserver), new_site(mserver)
    ana = Reader("Ana", http, site)
    comment_id = ana.post("/story", "An anonymous comment, no account").json()["comment"]["id"]
    elsewhere = http.post("/api/moderation/bans", headers=STAFF, json={
        "site": other, "kind": "ip", "comment_id": comment_id})
    assert elsewhere.status_code == 404
    assert elsewhere.json()["detail"] == f"no comment with id {comment_id} on this site"
    no_account = http.post("/api/moderation/bans", headers=STAFF, json={
        "site": site, "kind": "account", "comment_id": comment_id})
    assert no_account.status_code == 422
    assert no_account.json()["detail"] == f"comment {comment_id} has no account to ban"
    for s in (site, other):
        listed = http.get("/api/moderation/bans", headers=STAFF, params={"site": s, "all": "true"})
        assert listed.json()["bans"] == []
    assert ana.post("/story", "Still allowed to write").status_code == 201
