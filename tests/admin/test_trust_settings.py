"""Earned trust in the site settings form: the rules and the readers' "Regular" badge,
saved into the site's moderation policy and shown back; bad numbers name their field."""

from __future__ import annotations

from tests.admin.conftest import Newsroom
from tests.admin.test_sites import _save, _settings_form


def test_an_owner_sets_the_trust_rules_and_the_badge(newsroom: Newsroom) -> None:
    room = newsroom
    form = _settings_form(room)
    assert form["trust_form"] == "1" and "regular_badge" not in form
    assert form["trusted_after"] == "" and form["first_comments_held"] == ""
    page = room.owner.page(f"/admin/sites/{room.site_a}/settings")
    assert page.xpath('//input[@name="trusted_after"]/@placeholder') == ["10"]
    saved = _save(room, first_comments_held="2", links_need_approved="1",
                  account_min_days="7", trusted_after="5", regular_badge="1")
    assert saved.status_code == 303, saved.text
    trust = room.server.services.sites.settings_of(room.site_a).moderation["trust"]
    assert trust == {"first_comments_held": 2, "links_need_approved": 1,
                     "account_min_days": 7, "trusted_after": 5, "regular_badge": True}
    again = _settings_form(room)
    assert (again["trusted_after"], again["regular_badge"]) == ("5", "1")
    # Emptied fields go back to the defaults; an unticked box turns the badge off.
    cleared = {k: v for k, v in again.items() if k != "regular_badge"}
    cleared.update(first_comments_held="", links_need_approved="", account_min_days="",
                   trusted_after="")
    assert room.owner.post(f"/admin/sites/{room.site_a}/settings", cleared).status_code == 303
    assert room.server.services.sites.settings_of(room.site_a).moderation["trust"] == {
        "regular_badge": False}


def test_it_names_a_bad_trust_number(newsroom: Newsroom) -> None:
    refused = _save(newsroom, trusted_after="0")
    assert refused.status_code == 422
    assert "moderation.trust.trusted_after: must be a whole number from 1" in refused.text
