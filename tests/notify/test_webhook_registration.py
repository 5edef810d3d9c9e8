"""Registering a webhook, on a server that keeps private addresses out (the default):
loopback, private, link-local and IPv4-mapped addresses are refused when the webhook is
added, as are an empty list of events and a 21st webhook."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ORIGIN, LiveServer, running_server

TOKEN = "hooks-" + secrets.token_hex(8)
STAFF = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def guarded() -> Iterator[LiveServer]:
    with running_server("sqlite", admin_token=TOKEN) as live:
        yield live


def _hooks(http: httpx.Client, site: str) -> list[str]:
    listed = http.get(f"/api/admin/sites/{site}/webhooks", headers=STAFF)
    assert listed.status_code == 200, listed.text
    return [h["url"] for h in listed.json()["webhooks"]]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest",
    "http://[::1]/hook", "http://[::ffff:192.168.0.1]/hook", "http://[fd00::1]/hook",
])
def test_it_refuses_a_webhook_to_a_private_address(guarded: LiveServer, url: str) -> None:
    site = guarded.add_site("h" + secrets.token_hex(4), [ORIGIN])
    with guarded.client() as http:
        refused = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                            json={"url": url})
        assert refused.status_code == 422
        assert refused.json()["detail"] == "url: private and loopback addresses are not allowed"
        assert _hooks(http, site) == []


def test_it_refuses_no_events_and_a_21st_webhook(guarded: LiveServer) -> None:
    site = guarded.add_site("h" + secrets.token_hex(4), [ORIGIN])
    with guarded.client() as http:
        none = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                         json={"url": "https://hooks.example/none", "events": []})
        assert none.status_code == 422
        assert none.json()["detail"] == ("events: a non-empty list of comment.approved, "
                                         "comment.created, comment.deleted")
        for n in range(20):
            added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                              json={"url": f"https://hooks.example/{n}"})
            assert added.status_code == 201, added.text
        one_more = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                             json={"url": "https://hooks.example/20"})
        assert one_more.status_code == 422
        assert one_more.json()["detail"] == "a site may have at most 20 webhooks"
        assert len(_hooks(http, site)) == 20
