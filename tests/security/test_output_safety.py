"""What Rostra sends out stays well-formed whatever readers typed: Atom and RSS feeds
with any control character, author websites with any punctuation, emails with odd addresses."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import feedparser
import httpx
import pytest

from rostra.core.errors import InvalidInput
from rostra.services.subscriptions import normalise_email
from tests.conftest import ORIGIN, LiveServer, Reader, running_server

CONTROLS = [chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"] + ["\x7f", "\ufffe"]


def test_it_keeps_feeds_valid_xml_for_every_control_character(
    server: LiveServer, ana: Reader, site: str, http: httpx.Client
) -> None:
    accepted = 0
    for char in CONTROLS:
        response = ana.post("/feed/", f"before{char}after", title=f"T{char}itle",
                            name=f"Ana{char}")
        assert response.status_code in (201, 422), response.text
        accepted += response.status_code == 201
    assert ana.post("/feed/", "plain").status_code == 201
    for kind in ("atom", "rss"):
        for path, params in ((f"/feeds/{site}.{kind}", {}),
                             (f"/feeds/{site}/thread.{kind}", {"thread": "/feed/"})):
            response = http.get(path, params=params)
            assert response.status_code == 200
            ET.fromstring(response.content)  # raises on a character XML 1.0 forbids
            # And a feed reader's parser (strict XML first) reads every entry.
            parsed = feedparser.parse(response.content)
            assert not parsed.bozo, parsed.get("bozo_exception")
            assert parsed.version == ("atom10" if kind == "atom" else "rss20")
            texts = [e.get("summary", "") + e.get("content", [{}])[0].get("value", "")
                     for e in parsed.entries]
            assert any("plain" in t for t in texts)
            assert sum("before" in t for t in texts) == accepted


BAD_WEBSITES = ["exa mple.com", "https://exa<mple.com/", 'https://a"b.example/',
                "https://a'b.example/", "https://[x]/", "https://a>b.example",
                "https://user:pw@example.com/", "javascript:alert(1)", "https://-bad-.example/"]


@pytest.mark.parametrize("website", BAD_WEBSITES)
def test_it_refuses_a_website_whose_host_is_not_a_host(ana: Reader, website: str) -> None:
    response = ana.post("/web/", "hello", website=website)
    assert response.status_code == 422, response.text
    assert response.json()["errors" if "errors" in response.json() else "detail"]


def test_it_keeps_good_websites(ana: Reader, http: httpx.Client, site: str) -> None:
    for website, stored in (("example.com", "https://example.com/"),
                            ("https://Bücher.example/x", "https://xn--bcher-kva.example/x"),
                            ("http://[2001:db8::1]/", "http://[2001:db8::1]/")):
        response = ana.post("/web-ok/", "hello", website=website)
        assert response.status_code == 201, response.text
        assert response.json()["comment"]["author"]["website"] == stored


@pytest.mark.parametrize("char", ["\x00", "\x0c", "\x1b", "\x7f", "\u2028", "\u202e"])
def test_it_refuses_subscription_addresses_with_control_characters(char: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_email(f"ana{char}@readers.example")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                           marks=pytest.mark.postgres)])
def test_it_refuses_such_addresses_over_http(backend: str) -> None:
    # A server that sends email (a dead SMTP port: nothing is sent before confirmation is
    # queued); without one, every subscription is refused as 503 before the address is read.
    with running_server(backend, smtp_host="127.0.0.1", smtp_port=9) as live, \
            live.client() as http:
        site = live.add_site("mail" + backend, [ORIGIN])
        response = http.post("/api/subscriptions", headers={"Origin": ORIGIN}, json={
            "site": site, "thread": "/x/", "email": "ana\x0c@readers.example"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input"
