"""A staff member adds a passkey on the admin's account page and signs in with it
alone, with Chromium's virtual authenticator (never a real device). The admin is
reached as http://localhost:<port>, its public_url: WebAuthn needs a domain."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import ThreadedServer, free_port
from widget_page import expect

from rostra.app import create_app
from rostra.config import Settings

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def admin_on_localhost() -> Iterator[tuple[str, Any]]:
    port = free_port()
    url = f"http://localhost:{port}"
    folder = tempfile.mkdtemp(prefix="rostra-pk-")
    settings = Settings(database_url=f"sqlite:///{folder}/r.sqlite3", secret_key="pk-test",
                        public_url=url, log_level="warning", rate_limits=False,
                        classifier="off")
    app = create_app(settings)
    server = ThreadedServer(app, port)
    server.start()
    try:
        yield url, app.app.state
    finally:
        server.stop()
        app.app.state.services.db.dispose()


def test_a_staff_member_signs_in_with_a_passkey_alone(
    admin_on_localhost: tuple[str, Any], page: Any
) -> None:
    url, state = admin_on_localhost
    name = "k" + secrets.token_hex(4)
    state.staff.create_user(name, PASSWORD, is_admin=True)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    page.goto(f"{url}/admin/login?next=/admin/account")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    page.get_by_label("Name of the new passkey").fill("Test key")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("ul.passkeys li")).to_contain_text("Test key")
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{url}/admin/login?next=/admin/account")
    page.get_by_role("button", name="Use a passkey instead").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator("table.sessions")).to_contain_text("passkey")
