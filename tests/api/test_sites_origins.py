"""The origin check's refusals say what was refused, through real HTTP, on both databases
(the mutation run of services/sites.py: origin_allowed, check_origin, resolve)."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer, Reader


def test_it_names_the_refused_origin_and_the_site(ana: Reader) -> None:
    response = ana.http.post(
        "/api/comments", json={"site": ana.site, "thread": "/o/", "name": "A", "text": "x"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        f"origin 'https://evil.example' may not post to site {ana.site!r}")


def test_it_quotes_at_most_100_characters_of_a_refused_origin(ana: Reader) -> None:
    origin = "https://" + "a" * 120 + ".example"
    response = ana.http.post(
        "/api/comments", json={"site": ana.site, "thread": "/o/", "name": "A", "text": "x"},
        headers={"Origin": origin},
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        f"origin {origin[:100]!r} may not post to site {ana.site!r}")


def test_it_asks_for_the_site_when_no_site_allows_the_origin(server: LiveServer,
                                                              http: httpx.Client) -> None:
    for headers in ({"Origin": "https://nobody-allows-this.example"}, {}):
        response = http.post("/api/comments", json={"thread": "/o/", "name": "A", "text": "x"},
                             headers=headers)
        assert response.status_code == 422, headers
        assert response.json()["detail"] == (
            "site: required (no site allows this request's origin)")
