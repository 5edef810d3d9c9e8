"""The reader's address, as production finds it: the test servers run uvicorn with the
options of `rostra serve` (no proxy headers of its own), so X-Forwarded-For is believed
only through Rostra's trusted_proxies (127.0.0.1/32 here). A client that connects from
another loopback address is a reader talking to Rostra directly: its X-Forwarded-For is
a lie, and bans, vote checks and rate limits count its own address."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from rostra.cli import SERVER_OPTIONS
from rostra.services.moderation import BanKind, BanRequest
from tests.conftest import ORIGIN, LiveServer, Reader
from tests.moderation.conftest import new_site


def loopback() -> str:
    """A loopback address other than 127.0.0.1 (the trusted proxy), fresh per test."""
    return f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(250) + 2}"


def public_ip() -> str:
    return f"203.0.113.{secrets.randbelow(250) + 1}"


@pytest.fixture
def direct(mserver: LiveServer) -> Iterator[tuple[str, httpx.Client]]:
    """(address, client): a reader connecting from an untrusted address of its own."""
    address = loopback()
    with mserver.client_from(address) as client:
        yield address, client


def ban(server: LiveServer, site: str, kind: BanKind, value: str) -> None:
    service = server.app.app.state.moderation.service
    service.ban(BanRequest(site_id=site, kind=kind, value=value, reason="test"), actor="test")


def test_it_runs_the_test_servers_with_the_options_of_rostra_serve(
    mserver: LiveServer,
) -> None:
    assert SERVER_OPTIONS["proxy_headers"] is False
    assert mserver.settings.trusted_proxies == ["127.0.0.1/32"]


def test_it_bans_the_address_a_trusted_proxy_names(mserver: LiveServer,
                                                   http: httpx.Client) -> None:
    site = new_site(mserver)
    banned = Reader("Banned", http, site, ip=public_ip())
    ban(mserver, site, BanKind.IP, banned.ip)
    refused = banned.post("/story", "Hello again")
    assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]
    other = Reader("Other", http, site, ip=public_ip().replace("203.0.113", "198.51.100"))
    assert other.post("/story", "Hello").status_code == 201


def test_it_bans_a_range_through_a_trusted_proxy(mserver: LiveServer,
                                                 http: httpx.Client) -> None:
    site = new_site(mserver)
    ban(mserver, site, BanKind.RANGE, "192.0.2.0/24")
    inside = Reader("Inside", http, site, ip="192.0.2.77")
    refused = inside.post("/story", "From the range")
    assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]
    outside = Reader("Outside", http, site, ip="192.0.3.77")
    assert outside.post("/story", "Next door").status_code == 201


def test_it_ignores_x_forwarded_for_from_an_untrusted_peer(
    mserver: LiveServer, direct: tuple[str, httpx.Client],
) -> None:
    address, client = direct
    site = new_site(mserver)
    # A banned address named in X-Forwarded-For by a peer that is no proxy: not believed.
    victim = public_ip()
    ban(mserver, site, BanKind.IP, victim)
    framed = Reader("Framed", client, site, ip=victim)
    assert framed.post("/story", "Not from the banned address").status_code == 201
    # The peer's own address is what counts: ban it, and a forged header does not help.
    ban(mserver, site, BanKind.IP, address)
    liar = Reader("Liar", client, site, ip=public_ip())
    refused = liar.post("/story", "Pretending to be elsewhere")
    assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]


def test_it_checks_votes_by_the_believed_address(
    mserver: LiveServer, http: httpx.Client, direct: tuple[str, httpx.Client],
) -> None:
    _, client = direct
    site = new_site(mserver)
    author = Reader("Author", http, site)
    comment_id = author.post("/story", "Vote on me").json()["comment"]["id"]
    # Two readers behind the trusted proxy, at two addresses: both votes count.
    assert Reader("One", http, site).vote(comment_id, 1).status_code == 200
    assert Reader("Two", http, site).vote(comment_id, 1).status_code == 200
    # One reader without a proxy, dropping its voter id and forging a new address each
    # time: the second vote comes from the same network.
    assert Reader("Three", client, site).vote(comment_id, 1).status_code == 200
    again = Reader("Three again", client, site).vote(comment_id, 1)
    assert again.status_code == 409 and again.json()["code"] == "already_voted"


def test_it_limits_votes_per_address(
    mserver: LiveServer, http: httpx.Client, direct: tuple[str, httpx.Client],
) -> None:
    _, client = direct
    site = new_site(mserver)
    author = Reader("Author", http, site)
    comment_id = author.post("/story", "Vote on me, many times").json()["comment"]["id"]
    # 60 a minute (RateLimits.vote) from one address, whatever X-Forwarded-For it forges
    # (no voter id, and votes of 0, so that only the address ties the requests together).
    statuses = []
    for _ in range(61):
        response = client.post(f"/api/comments/{comment_id}/vote", json={"value": 0},
                               headers={"Origin": ORIGIN, "X-Forwarded-For": public_ip()})
        statuses.append(response.status_code)
    assert statuses[:60] == [200] * 60 and statuses[60] == 429, statuses
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    # Behind the trusted proxy, another reader's address has a budget of its own.
    assert Reader("Other", http, site).vote(comment_id, 1).status_code == 200


def test_it_limits_subscription_requests_per_address(
    mserver: LiveServer, http: httpx.Client, direct: tuple[str, httpx.Client],
) -> None:
    _, client = direct
    site = new_site(mserver)
    # 10 an hour (RateLimits.subscribe): each would mail a confirmation to a stranger.
    statuses = []
    for i in range(11):
        body = {"site": site, "thread": "/story", "email": f"stranger{i}@example.org",
                "kind": "thread"}
        response = client.post("/api/subscriptions", json=body,
                               headers={"Origin": ORIGIN, "X-Forwarded-For": public_ip()})
        statuses.append(response.status_code)
    assert 429 not in statuses[:10] and statuses[10] == 429, statuses
    assert response.json()["code"] == "rate_limited"
    body = {"site": site, "thread": "/story", "email": "me@example.org", "kind": "thread"}
    other = http.post("/api/subscriptions", json=body,
                      headers={"Origin": ORIGIN, "X-Forwarded-For": public_ip()})
    assert other.status_code == statuses[0]


def test_it_takes_the_address_the_trusted_proxy_saw() -> None:
    from rostra.api.posting import forwarded_ip

    trusted = ["127.0.0.1/8", "10.0.0.0/8"]  # host bits set: still the network
    # The last hop is the one the trusted proxy added; earlier ones are the client's word.
    assert forwarded_ip("127.0.0.2", "198.51.100.1, 203.0.113.5", trusted) == "203.0.113.5"
    assert forwarded_ip("10.1.2.3", " 203.0.113.6 ", trusted) == "203.0.113.6"
    assert forwarded_ip("127.0.0.2", "198.51.100.1,203.0.113.7", trusted) == "203.0.113.7"
    # No header, no trust, an untrusted or unparsable peer: the peer itself.
    assert forwarded_ip("127.0.0.2", None, trusted) == "127.0.0.2"
    assert forwarded_ip("127.0.0.2", "203.0.113.5", []) == "127.0.0.2"
    assert forwarded_ip("192.0.2.1", "203.0.113.5", trusted) == "192.0.2.1"
    assert forwarded_ip("unix-socket", "203.0.113.5", trusted) == "unix-socket"
    assert forwarded_ip(None, "203.0.113.5", trusted) is None
