"""Passkeys in the widget, with Chromium's virtual authenticator (the DevTools
protocol's WebAuthn domain), never a real device: a signed-in reader adds one, signs
out, signs in with the passkey alone, and removes it.

WebAuthn needs a domain (an IP address is no relying party), so the host page here is
served as http://localhost:<port>, a secure context like https.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import LiveServer
from widget_page import Discussion, HostSite, expect, widget

from rostra.services.sessions import SignInMethod
from rostra.store.passkey_tables import passkeys

pytestmark = pytest.mark.browser
_sites = itertools.count(1)


@pytest.fixture(scope="module")
def localhost_site() -> Iterator[HostSite]:
    site = HostSite("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = site.pages.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.origin = f"http://localhost:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


def authenticator(page: Any) -> tuple[Any, str]:
    """A platform authenticator with user verification, answering on its own."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp, str(added["authenticatorId"])


def signed_in(live: LiveServer, site: str, page: Any, url: str) -> None:
    """The reader signed in already (an email link, say): their session in the widget."""
    reader = live.services.accounts.sign_in(site, "email:pia@readers.example", "Pia Key",
                                            "pia@readers.example", email_verified=True)
    token = live.services.accounts.session_for(site, reader, SignInMethod.EMAIL)
    page.goto(url)
    page.evaluate("([k, v]) => localStorage.setItem(k, v)", [
        f"rostra:session:{site}",
        json.dumps({"token": token, "name": reader.name, "email": reader.email})])
    page.reload()


def test_a_reader_adds_a_passkey_signs_in_with_it_alone_and_removes_it(
    live_server: LiveServer, localhost_site: HostSite, page: Any
) -> None:
    site = f"pk{next(_sites)}"
    live_server.add_site(site, [localhost_site.origin])
    discussion = Discussion(live_server.url.rstrip("/"), localhost_site, site, "/pk/story/")
    url = discussion.url()
    cdp, auth_id = authenticator(page)
    signed_in(live_server, site, page, url)
    form = widget(page).locator(".fs form")
    form.get_by_role("button", name="Signed in as Pia Key").click()
    expect(form.locator(".signed")).to_contain_text("Signed in as Pia Key")
    form.get_by_role("button", name="Account").click()
    panel = form.locator(".acct")
    expect(panel).to_contain_text("No passkey yet")
    panel.get_by_role("button", name="Add a passkey").click()
    expect(panel.locator(".ok")).to_have_text(
        "The passkey is added: next time, sign in with it alone.")
    expect(panel.get_by_role("button", name="Remove")).to_have_count(1)
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": auth_id})["credentials"]
    assert len(held) == 1 and held[0]["isResidentCredential"]
    assert held[0]["rpId"] == "localhost"
    with live_server.services.db.read() as conn:
        row = conn.execute(select(passkeys.c.rp_id, passkeys.c.sign_count)
                           .where(passkeys.c.credential_id == held[0]["credentialId"]
                                  .replace("+", "-").replace("/", "_").rstrip("="))).one()
    assert row.rp_id == "localhost"

    form.get_by_role("button", name="Sign out", exact=True).click()
    form.get_by_role("button", name="Sign in with a passkey").click()
    expect(form.locator(".signed")).to_contain_text("Signed in as Pia Key")
    form.get_by_label("Comment").fill("Signed in with a passkey alone")
    form.get_by_role("button", name="Post comment").click()
    expect(widget(page).locator("ol.list > li").first.locator(".au")).to_have_text("Pia Key")

    form.get_by_role("button", name="Account").click()
    expect(panel).to_contain_text("passkey")  # this session's method
    panel.get_by_role("button", name="Remove").click()
    expect(panel.locator(".ok")).to_have_text("The passkey is removed.")
    form.get_by_role("button", name="Sign out", exact=True).click()
    form.get_by_role("button", name="Sign in with a passkey").click()
    expect(form.locator(".err")).to_have_text("The passkey could not be used. Please try again.")
    expect(form.get_by_label("Name")).to_be_visible()
