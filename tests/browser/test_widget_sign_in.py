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
