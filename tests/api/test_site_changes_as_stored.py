"""A change to a site is made to the site as stored, not as the process making it last
saw it. Each worker keeps the sites in memory (reloaded on the change bus and every few
seconds); a setting changed through one worker, then another setting through a worker
that had not heard yet, was put back by the second (it merged the new setting into its
old copy and wrote the whole); two origins added at once kept one."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import pytest
from sqlalchemy import text

from rostra.admin.site_forms import settings_from_form
from rostra.services.site_move import move_site
from rostra.services.sites import SiteService
from tests.conftest import LiveServer, side_by_side


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


@pytest.mark.postgres
def test_an_origin_added_while_another_claim_holds_the_sites_waits_in_line(
    pg_live_server: LiveServer, caplog: pytest.LogCaptureFixture,
) -> None:
    """A change that claims an origin takes the sites table before the site's row: it
    took the row first, and with another claim (a move of sites to a new domain)
    holding the table and then changing that row, the two waited for each other until
    PostgreSQL broke the deadlock by failing one."""
    server = pg_live_server
    first, _, site = _two_workers(server)

    def move(conn: Any) -> None:  # as `rostra site move` does, the table held
        conn.execute(text("UPDATE sites SET name = 'Moved' WHERE id = :id"), {"id": site})

    with caplog.at_level(logging.INFO, logger="rostra.store.db"):
        [added] = side_by_side(server, "LOCK TABLE sites IN SHARE ROW EXCLUSIVE MODE", {},
                               [lambda: first.add_origin(site, "https://one.example")], move)
    assert not isinstance(added, Exception), added
    assert added.origins == ("https://news.example", "https://one.example")
    assert added.name == "Moved"
    assert [r.getMessage() for r in caplog.records if "running it again" in r.getMessage()] == []


@pytest.mark.postgres
def test_a_move_keeps_an_origin_added_while_it_waited(pg_live_server: LiveServer) -> None:
    """A move to a new domain read the sites, then waited for the table: an origin
    another change added meanwhile was written over with what it had read."""
    server = pg_live_server
    _, _, site = _two_workers(server)

    def add_an_origin(conn: Any) -> None:  # as add_origin does, the table held
        conn.execute(text("UPDATE sites SET origins = :o WHERE id = :id"),
                     {"o": '["https://news.example", "https://one.example"]', "id": site})

    [moved] = side_by_side(
        server, "LOCK TABLE sites IN SHARE ROW EXCLUSIVE MODE", {},
        [lambda: move_site(server.services.db, "https://news.example",
                           "https://news.example.org", site_id=site)], add_an_origin)
    assert not isinstance(moved, Exception), moved
    assert SiteService(server.services.db).get(site).origins == (
        "https://news.example.org", "https://one.example")
