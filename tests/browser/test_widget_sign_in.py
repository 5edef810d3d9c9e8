"""A reader signs in with an OpenID Connect provider from the widget, in a popup."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import LiveServer, running_server
from tests.oidc_provider import LoopbackProvider
from widget_page import Discussion, HostSite, expect, widget

pytestmark = pytest.mark.browser
_sites = itertools.count(1)


@pytest.fixture(scope="module")
def oidc_live(provider: LoopbackProvider) -> Iterator[LiveServer]:
    with running_server("sqlite", oidc_providers=[{
        "name": "testid", "label": "Test ID", "issuer": provider.issuer,
        "client_id": provider.client_id, "client_secret": provider.client_secret,
    }]) as live:
        yield live


@pytest.fixture
def discussion(oidc_live: LiveServer, host_site: HostSite) -> Discussion:
    site = f"si{next(_sites)}"
    oidc_live.add_site(site, [host_site.origin])
    return Discussion(oidc_live.url.rstrip("/"), host_site, site, f"/news/{site}/story/")


def test_a_reader_signs_in_with_a_provider_posts_and_signs_out(
    discussion: Discussion, page: Any
) -> None:
    page.goto(discussion.url())
    form = widget(page).locator(".fs form")
    form.get_by_role("button", name="Name and email").click()
    expect(form.get_by_label("Name")).to_be_visible()
    with page.expect_popup() as opened:
        form.get_by_role("button", name="Sign in with Test ID").click()
    popup = opened.value
    popup.wait_for_event("close")
    expect(form.locator(".signed")).to_contain_text("Signed in as Olga Provider")
    expect(form.get_by_label("Name")).to_have_count(0)
    form.get_by_label("Comment").fill("Hello from a provider account")
    form.get_by_role("button", name="Post comment").click()
    expect(widget(page).locator("ol.list > li").first.locator(".au")).to_have_text(
        "Olga Provider")
    page.reload()
    form.get_by_role("button", name="Signed in as Olga Provider").click()
    expect(form.locator(".signed")).to_contain_text("Signed in as Olga Provider")
    form.get_by_role("button", name="Sign out").click()
    expect(form.get_by_role("button", name="Sign in with Test ID")).to_be_visible()
    expect(form.get_by_label("Name")).to_be_visible()


def test_a_cancelled_sign_in_is_said_and_changes_nothing(
    discussion: Discussion, page: Any, provider: LoopbackProvider
) -> None:
    page.goto(discussion.url())
    form = widget(page).locator(".fs form")
    provider.tamper = {"nonce": "someone else's"}
    form.get_by_role("button", name="Name and email").click()
    try:
        with page.expect_popup() as opened:
            form.get_by_role("button", name="Sign in with Test ID").click()
        opened.value.wait_for_event("close")
    finally:
        provider.tamper = {}
    expect(form.locator(".err")).to_have_text("Signing in did not work. Please try again.")
    expect(form.get_by_label("Name")).to_be_visible()


def test_a_reader_downloads_their_data_and_erases_their_account_from_the_panel(
    discussion: Discussion, page: Any
) -> None:
    import json

    page.goto(discussion.url())
    form = widget(page).locator(".fs form")
    form.get_by_role("button", name="Name and email").click()
    with page.expect_popup() as opened:
        form.get_by_role("button", name="Sign in with Test ID").click()
    opened.value.wait_for_event("close")
    form.get_by_label("Comment").fill("Words I will take back")
    form.get_by_role("button", name="Post comment").click()
    first = widget(page).locator("ol.list > li").first
    expect(first.locator(".au")).to_have_text("Olga Provider")
    form.get_by_role("button", name="Account").click()
    panel = form.locator(".acct")
    with page.expect_download() as downloading:
        panel.get_by_role("button", name="Download my data").click()
    download = downloading.value
    assert download.suggested_filename == "rostra-account.json"
    with open(download.path(), encoding="utf-8") as saved:
        data = json.load(saved)
    assert [c["text"] for c in data["comments"]] == ["Words I will take back"]
    expect(panel.locator(".ok")).to_have_text(
        "Your data is downloaded (rostra-account.json).")
    # Erasing takes a second, explicit step, which can be called off.
    erase = panel.get_by_role("button", name="Erase my account")
    erase.click()
    expect(erase).to_have_attribute("aria-expanded", "true")
    expect(panel.get_by_role("alert")).to_contain_text("This cannot be undone.")
    panel.get_by_role("button", name="Cancel").click()
    expect(panel.get_by_role("alert")).to_have_count(0)
    expect(erase).to_be_focused()
    erase.click()
    panel.get_by_role("button", name="Erase everything").click()
    expect(form.get_by_role("button", name="Sign in with Test ID")).to_be_visible()
    page.reload()
    expect(widget(page).locator(".fs form").get_by_role("button", name="Name and email")
           ).to_be_visible()
    expect(widget(page).get_by_text("Words I will take back")).to_have_count(0)
