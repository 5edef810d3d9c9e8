"""A change to a site is made to the site as stored, not as the process making it last
saw it. Each worker keeps the sites in memory (reloaded on the change bus and every few
seconds); a setting changed through one worker, then another setting through a worker
that had not heard yet, was put back by the second (it merged the new setting into its
old copy and wrote the whole); two origins added at once kept one."""

from __future__ import annotations

import secrets

from rostra.admin.site_forms import settings_from_form
from rostra.services.sites import SiteService
from tests.conftest import LiveServer


def _two_workers(server: LiveServer) -> tuple[SiteService, SiteService, str]:
    """Two views of the sites, as two workers keep them, both loaded before either
    changes anything."""
    site = server.add_site("c" + secrets.token_hex(5), ["https://news.example"])
    first, second = SiteService(server.services.db), SiteService(server.services.db)
    first.get(site), second.get(site)
    return first, second, site


def test_a_setting_changed_elsewhere_a_moment_ago_is_kept(server: LiveServer) -> None:
    first, second, site = _two_workers(server)
    first.update(site, settings={"page_size": 50})
    # The second has not reloaded yet: its copy still says the default order.
    assert second._by_id[site].settings.get("page_size") != 50
    second.update(site, settings={"max_depth": 2})
    stored = SiteService(server.services.db).get(site).settings
    assert stored["page_size"] == 50 and stored["max_depth"] == 2


def test_origins_added_and_removed_through_two_workers_are_all_kept(
    server: LiveServer,
) -> None:
    first, second, site = _two_workers(server)
    first.add_origin(site, "https://one.example")
    second.add_origin(site, "https://two.example")
    assert SiteService(server.services.db).get(site).origins == (
        "https://news.example", "https://one.example", "https://two.example")
    first.remove_origin(site, "https://news.example")
    second.remove_origin(site, "https://one.example")
    assert SiteService(server.services.db).get(site).origins == ("https://two.example",)


def test_the_settings_form_applies_its_changes_to_the_settings_as_stored(
    server: LiveServer,
) -> None:
    """The admin form's changes (``settings_from``) go onto the stored settings: how
    readers sign in, which the form does not show, changed elsewhere a moment ago, stays
    as it was set."""
    first, second, site = _two_workers(server)
    first.update(site, settings={"sign_in": {"email": False}})
    form = {"thread_creation": "open", "mode": "all", "languages": "en"}
    second.update(site, settings_from=lambda stored: settings_from_form(stored, form))
    stored = SiteService(server.services.db).get(site).settings
    assert stored["sign_in"]["email"] is False
    assert stored["moderation"]["mode"] == "all" and stored["languages"] == ["en"]
