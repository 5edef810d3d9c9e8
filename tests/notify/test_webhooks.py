"""Webhooks: managed by the site owner, signed, retried through the outbox."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from rostra.core.models import CommentState
from rostra.notify.model import TransportError
from rostra.notify.webhooks import (
    WebhookTransport,
    check_url,
    is_public,
    new_secret,
    resolve,
    secret_key,
    verify,
)
from tests.notify.conftest import ADMIN_TOKEN, NotifyServer, Receiver, payload

STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def run(notify: NotifyServer, minutes: float = 0) -> int:
    worker = notify.worker(retry_base_seconds=30)
    return notify.run(worker.run_once(now=datetime.now(UTC) + timedelta(minutes=minutes)))


def site_calling(notify: NotifyServer, http: httpx.Client, receiver: Receiver) -> str:
    """A new site whose webhook calls ``receiver``, with nothing left in the outbox."""
    site = notify.new_site()
    run(notify, 600)  # start from an empty outbox
    added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                      json={"url": receiver.url})
    assert added.status_code == 201, added.text
    return site


def test_it_signs_webhooks_and_retries_until_the_receiver_takes_them(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    site = notify.new_site()
    run(notify, 600)  # start from an empty outbox
    added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                      json={"url": receiver.url})
    assert added.status_code == 201, added.text
    secret = added.json()["webhook"]["secret"]
    assert secret.startswith("whsec_") and len(secret_key(secret)) == 32
    listed = http.get(f"/api/admin/sites/{site}/webhooks", headers=STAFF).json()["webhooks"]
    assert [w["url"] for w in listed] == [receiver.url] and "secret" not in listed[0]

    receiver.statuses = [500]  # the first call fails
    posted = notify.reader(http, site, "Ben").post("/hooked/", "Ping the newsroom")
    comment_id = posted.json()["comment"]["id"]
    assert run(notify) == 1
    assert [c["status"] for c in receiver.calls] == [500]
    assert run(notify) == 0  # backing off
    assert run(notify, 5) == 1
    assert [c["status"] for c in receiver.calls] == [500, 200]

    first, second = receiver.calls
    assert first["body"] == second["body"]
    ids = set()
    for call in receiver.calls:
        headers = {k.lower(): v for k, v in call["headers"].items()}
        # What a receiver does: one call of a Standard Webhooks library.
        assert Webhook(secret).verify(call["body"], headers)["comment"]["id"] == comment_id
        ids.add(headers["webhook-id"])
        assert headers["webhook-id"] == headers["x-rostra-delivery"]
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 3600
        # The deprecated header, for one more release: HMAC of "<timestamp>.<body>".
        stamp = headers["x-rostra-timestamp"]
        assert stamp == headers["webhook-timestamp"]
        expected = hmac.new(secret_key(secret), stamp.encode() + b"." + call["body"],
                            hashlib.sha256).hexdigest()
        assert headers["x-rostra-signature"] == f"sha256={expected}"
        assert headers["x-rostra-event"] == "comment.created"
        assert headers["content-type"] == "application/json"
        tampered = call["body"].replace(b"Ping", b"Pong")
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(tampered, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(call["body"], {**headers, "webhook-id": "another"})
    assert len(ids) == 1  # a retry is the same message
    body = payload(first)
    assert body["event"] == "comment.created" and body["site"] == site
    assert body["comment"]["id"] == comment_id and body["comment"]["text"] == "Ping the newsroom"
    assert body["thread"]["key"] == "/hooked"
    assert "email" not in str(body).lower()

    notify.live.services.comments.set_state(comment_id, CommentState.DELETED, actor="mod")
    run(notify)
    assert payload(receiver.calls[-1])["event"] == "comment.deleted"


def test_it_reports_held_comments_and_their_approval(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    site = notify.new_site()
    run(notify, 600)
    hook = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                     json={"url": receiver.url, "events": ["comment.approved"],
                           "secret": "a-long-shared-secret"})
    assert hook.status_code == 201
    # A secret of the old kind (any string) is the key as its UTF-8 bytes; the answer
    # shows it in the Standard Webhooks form, whsec_ + base64 of those bytes.
    assert hook.json()["webhook"]["secret"] == "whsec_" + base64.b64encode(
        b"a-long-shared-secret").decode()
    notify.holds.sites.add(site)
    comment_id = notify.reader(http, site).post("/held-hook/", "Hold me").json()["comment"]["id"]
    run(notify)
    assert receiver.calls == []  # created, but this hook wants approvals only
    notify.live.services.comments.set_state(comment_id, CommentState.APPROVED, actor="mod")
    run(notify)
    [call] = receiver.calls
    assert payload(call)["event"] == "comment.approved"
    assert payload(call)["comment"]["state"] == "approved"
    headers = {k.lower(): v for k, v in call["headers"].items()}
    # A receiver written for the old header keeps verifying with the old secret.
    assert verify("a-long-shared-secret", headers["x-rostra-timestamp"], call["body"],
                  headers["x-rostra-signature"])
    Webhook(hook.json()["webhook"]["secret"]).verify(call["body"], headers)

    gone = http.delete(f"/api/admin/sites/{site}/webhooks/{hook.json()['webhook']['id']}",
                       headers=STAFF)
    assert gone.status_code == 204
    assert http.get(f"/api/admin/sites/{site}/webhooks", headers=STAFF).json() == {
        "webhooks": []}


def test_it_guards_webhook_management_and_refuses_bad_urls(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    path = f"/api/admin/sites/{site}/webhooks"
    assert http.get(path).status_code == 401
    assert http.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    bad = http.post(path, headers=STAFF, json={"url": "ftp://example.com/"})
    assert bad.status_code == 422
    assert http.post(path, headers=STAFF, json={"url": "https://x.example/",
                                                "events": ["comment.voted"]}).status_code == 422
    for secret in ("whsec_not base64 at all!", "whsec_" + base64.b64encode(b"short").decode(),
                   "whsec_" + base64.b64encode(b"k" * 65).decode(), "too short"):
        refused = http.post(path, headers=STAFF, json={"url": "https://x.example/",
                                                        "secret": secret})
        assert refused.status_code == 422, secret
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "secret" in refused.text
    given = "whsec_" + base64.b64encode(b"k" * 24).decode()
    kept = http.post(path, headers=STAFF, json={"url": "https://x.example/", "secret": given})
    assert kept.status_code == 201 and kept.json()["webhook"]["secret"] == given
    assert http.get("/api/admin/sites/no-such-site/webhooks", headers=STAFF).status_code == 404


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://[::1]/hook",
                                 "http://10.1.2.3/hook", "http://169.254.169.254/latest",
                                 "http://localhost:8080/",
                                 # IPv4-mapped IPv6 spellings of the same private places
                                 "http://[::ffff:127.0.0.1]:9/hook", "http://[::ffff:a01:203]/",
                                 "http://[::ffff:169.254.169.254]/latest",
                                 "http://[fe80::1]/", "http://[fd00::1]/", "http://0.0.0.0/",
                                 "http://192.168.1.1/", "http://224.0.0.1/"])
def test_it_refuses_to_call_private_addresses(url: str) -> None:
    with pytest.raises(TransportError) as refused:
        asyncio.run(resolve(url, allow_private=False))
    assert refused.value.permanent
    assert str(refused.value).endswith(" resolves to a private or local address; webhooks may "
                                       "not go there (setting allow_private_webhooks)")


def test_it_calls_the_address_it_checked() -> None:
    target = asyncio.run(resolve("http://127.0.0.1:8123/a?b=1", allow_private=True))
    assert target.url == "http://127.0.0.1:8123/a?b=1" and target.netloc == "127.0.0.1:8123"


def test_it_tells_public_addresses_from_the_rest() -> None:
    for address in ("93.184.215.14", "2606:4700::1111", "::ffff:93.184.215.14"):
        assert is_public(address), address
    for address in ("127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "10.0.0.1", "::1",
                    "172.16.0.1", "100.64.0.1", "192.0.2.1", "2001:db8::1", "224.0.0.1",
                    "ff02::1", "239.255.255.250", "0.0.0.0", "::"):
        assert not is_public(address), address


CREDENTIALS = "must not contain a user name or password"
NOT_HTTP = "must be an http:// or https:// URL"


@pytest.mark.parametrize(("url", "message"), [
    ("http://user:secret@example.com/hook", CREDENTIALS),
    ("https://user@example.com/hook", CREDENTIALS), ("https://:pw@example.com/", CREDENTIALS),
    ("ftp://example.com/", NOT_HTTP), ("https:///nohost", NOT_HTTP),
    ("javascript:alert(1)", NOT_HTTP),
    ("https://exa mple.com/", "the host is not a host name or IP address"),
    ("https://example.com/" + "x" * 1981, "at most 2000 characters"),  # 2001 characters
])
def test_it_refuses_urls_with_credentials_or_of_the_wrong_kind(url: str, message: str) -> None:
    with pytest.raises(ValueError) as invalid:
        check_url(url)
    assert str(invalid.value) == message
    with pytest.raises(TransportError) as refused:
        asyncio.run(resolve(url, allow_private=True))
    assert refused.value.permanent
    assert str(refused.value) == f"webhook URL {message}"


def test_it_keeps_a_good_url_as_it_is() -> None:
    url = "https://hooks.example.com:8443/rostra?key=1"
    assert check_url(url) == url
    longest = "https://example.com/" + "x" * 1980
    assert len(longest) == 2000 and check_url(longest) == longest
    # The address it connects to carries the scheme's port when the URL names none.
    for given, connected in (("https://127.0.0.1/h?x=1", "https://127.0.0.1:443/h?x=1"),
                             ("http://127.0.0.1", "http://127.0.0.1:80/"),
                             ("http://[::1]:81/a", "http://[::1]:81/a")):
        target = asyncio.run(resolve(given, allow_private=True))
        assert target.host == target.ip  # the name to speak to (SNI): here the address
        assert (target.url, target.ip) == (connected, connected.split("//")[1].split(":")[0]
                                           if "[" not in connected else "::1")


def test_it_sends_one_signed_post_with_its_headers(receiver: Receiver) -> None:
    secret = new_secret()
    transport = WebhookTransport(allow_private=True, timeout=5)
    port = int(receiver.url.split(":")[2].split("/")[0])
    real = socket.getaddrinfo

    def hooks_example(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.example":  # a name that resolves to the receiver
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)

    with mock.patch.object(socket, "getaddrinfo", hooks_example):
        asyncio.run(transport.send(f"http://hooks.example:{port}/hook?k=1", secret,
                                   b'{"a":1}', "comment.created", "msg_1"))
    [call] = receiver.calls
    headers = {k.lower(): v for k, v in call["headers"].items()}
    assert call["path"] == "/hook?k=1" and call["body"] == b'{"a":1}'
    assert headers["host"] == f"hooks.example:{port}"  # the name, not the address
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Rostra-Webhooks/1"
    assert headers["x-rostra-event"] == "comment.created"
    assert headers["x-rostra-delivery"] == headers["webhook-id"] == "msg_1"
    assert Webhook(secret).verify(call["body"], headers) == {"a": 1}
    with pytest.raises(TransportError) as refused:
        asyncio.run(transport.send(receiver.url, "not-a-secret", b"{}", "comment.created", "m"))
    assert refused.value.permanent and str(refused.value).startswith("webhook secret: ")
    assert len(receiver.calls) == 1


@pytest.mark.parametrize(("status", "permanent"), [
    (400, True), (404, True), (300, True), (301, True), (307, True), (408, False),
    (429, False), (500, False), (503, False),
])
def test_it_gives_up_on_client_errors_and_retries_server_errors(
    receiver: Receiver, status: int, permanent: bool
) -> None:
    receiver.statuses = [status, 200]  # a redirect followed would find a 200
    transport = WebhookTransport(allow_private=True, timeout=5)
    with pytest.raises(TransportError) as failed:
        asyncio.run(transport.send(receiver.url, new_secret(), b"{}", "comment.created", "d1"))
    assert failed.value.permanent is permanent
    assert str(status) in str(failed.value)
    [call] = receiver.calls
    assert call["path"] == "/hook" and call["body"] == b"{}"
    receiver.statuses = [204]
    asyncio.run(transport.send(receiver.url, new_secret(), b"{}", "comment.created", "d2"))


def test_it_retries_when_the_receiver_cannot_be_reached() -> None:
    transport = WebhookTransport(allow_private=True, timeout=5)
    with pytest.raises(TransportError) as failed:
        asyncio.run(transport.send("http://127.0.0.1:9/hook", new_secret(), b"{}",
                                   "comment.created", "d1"))
    assert failed.value.permanent is False
    assert str(failed.value).startswith("ConnectError: ")
    with pytest.raises(TransportError) as refused:
        asyncio.run(WebhookTransport(allow_private=False).send(
            "http://127.0.0.1:9/hook", new_secret(), b"{}", "comment.created", "d1"))
    assert refused.value.permanent is True


def test_it_stops_retrying_after_a_permanent_refusal(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    site = notify.new_site()
    run(notify, 600)
    added = http.post(f"/api/admin/sites/{site}/webhooks", headers=STAFF,
                      json={"url": receiver.url})
    assert added.status_code == 201, added.text
    receiver.statuses = [404, 503]
    notify.reader(http, site, "Ben").post("/gone-hook/", "Nobody listens")
    assert run(notify) == 1
    assert [c["status"] for c in receiver.calls] == [404]
    assert run(notify, 600) == 0  # given up: never called again, even hours later
    assert [c["status"] for c in receiver.calls] == [404]
