"""Security headers on every kind of response, /metrics closed to strangers, the API docs
served without a CDN, and no demo pages on a production server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from lxml import html as lxml_html

from tests.admin.conftest import PASSWORD, StaffMember, staff_service
from tests.conftest import ORIGIN, LiveServer, Reader, running_server


def test_it_sends_nosniff_on_every_kind_of_response(
    server: LiveServer, http: httpx.Client, ana: Reader, site: str
) -> None:
    assert ana.post("/h/", "hello").status_code == 201
    params = {"site": site, "thread": "/h/"}
    responses = [
        http.get("/api/comments", params=params),
        http.get("/api/comments", params=params),  # the second from the read cache
        http.get("/api/counts", params=params),
        http.get("/api/comments/999999999"),
        http.post("/api/comments", json={}, headers={"Origin": ORIGIN}),
        http.options("/api/comments", headers={"Origin": "https://stranger.example",
                                               "Access-Control-Request-Method": "POST"}),
        http.post("/api/counts", content=b"x" * 300_000,
                  headers={"Content-Type": "application/json"}),
        http.get(f"/feeds/{site}.atom"),
        http.get(f"/feeds/{site}.rss"),
        http.get("/admin/login"),
        http.get("/notify/confirm", params={"token": "nope"}),
        http.get("/api/openapi.json"),
        http.get("/api/docs"),
        http.get("/healthz"),
        http.get("/no/such/page"),
    ]
    for response in responses:
        assert response.headers.get("x-content-type-options") == "nosniff", (
            response.request.method, response.request.url, response.status_code)


def test_it_keeps_subscription_pages_out_of_frames(http: httpx.Client) -> None:
    for path in ("/notify/confirm", "/notify/manage"):
        response = http.get(path, params={"token": "anything"})
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert "script-src" not in csp  # no script may run there at all
        assert response.headers["x-frame-options"] == "DENY"
    response = http.post("/notify/manage", data={"token": "x"})
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_it_serves_the_api_docs_from_its_own_files(http: httpx.Client) -> None:
    page = http.get("/api/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-eval" not in csp and "cdn" not in page.text.lower()
    doc = lxml_html.fromstring(page.text)
    assets = doc.xpath("//script/@src") + doc.xpath("//link/@href")
    assert assets and not doc.xpath("//script[not(@src)]")  # no inline script
    for url in assets:
        assert url.startswith("/api/docs/"), url
        asset = http.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].split(";")[0] in (
            "text/css", "text/javascript", "image/png")
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert http.get("/api/docs/0.0.1/swagger-ui-bundle.js").status_code == 404
    version = assets[0].split("/")[3]
    assert http.get(f"/api/docs/{version}/../../../etc/passwd").status_code == 404
    assert http.get(f"/api/docs/{version}/index.html").status_code == 404


def test_it_opens_metrics_to_loopback_only_without_a_token(http: httpx.Client) -> None:
    assert http.get("/metrics").status_code == 200
    proxied = http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403
    assert proxied.headers["content-type"].startswith("application/problem+json")


@pytest.fixture(scope="module")
def hardened() -> Iterator[LiveServer]:
    """A server configured as in production: a metrics token, https, HSTS, no demo."""
    with running_server("sqlite", metrics_token="m-" + secrets.token_hex(8),
                        public_url="https://comments.example", hsts_seconds=31536000,
                        demo_pages=False) as live:
        yield live


def test_it_wants_the_metrics_token_when_one_is_set(hardened: LiveServer) -> None:
    with hardened.client() as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        token = hardened.settings.metrics_token
        ok = http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "rostra_http_requests_total" in ok.text


def test_it_sends_hsts_with_an_https_public_url(hardened: LiveServer) -> None:
    with hardened.client() as http:
        for path in ("/healthz", "/admin/login", "/api/openapi.json"):
            value = http.get(path).headers.get("strict-transport-security", "")
            assert value == "max-age=31536000; includeSubDomains", (path, value)


def test_it_serves_no_demo_pages_in_production(hardened: LiveServer) -> None:
    with hardened.client() as http:
        for path in ("/demo/", "/demo/index.html", "/demo/demo.css"):
            assert http.get(path).status_code == 404, path


def test_it_keeps_metrics_labels_bounded(server: LiveServer, http: httpx.Client) -> None:
    for n in range(5):
        http.get(f"/api/no-such-route-{secrets.token_hex(4)}-{n}")
    text = http.get("/metrics").text
    assert "no-such-route" not in text


def test_it_does_not_lock_out_a_staff_member_through_headers(server: LiveServer) -> None:
    # Sanity: the admin pages still work under the new headers.
    name = "h" + secrets.token_hex(4)
    staff_service(server).create_user(name, PASSWORD)
    member = StaffMember(name, server.client())
    assert member.login().status_code == 303
    assert member.get("/admin/queue").headers["x-content-type-options"] == "nosniff"
    member.http.close()
