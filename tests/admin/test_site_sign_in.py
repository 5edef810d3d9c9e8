"""A site owner chooses how the site's readers sign in, and adds providers of the
site's own, on the admin's settings page (CSRF, audited)."""

from __future__ import annotations

import httpx

from tests.admin.conftest import Newsroom
from tests.admin.test_sites import _save, _settings_form


def test_an_owner_turns_sign_in_ways_off_and_on(newsroom: Newsroom) -> None:
    room = newsroom
    values = _settings_form(room)
    assert values["sign_in_email"] == "1" and values["sign_in_passkeys"] == "1"
    assert values["sign_in_all"] == "1"
    changed = {k: v for k, v in values.items() if k not in ("sign_in_email", "sign_in_all")}
    saved = room.owner.post(f"/admin/sites/{room.site_a}/settings", changed)
    assert saved.status_code == 303, saved.text
    chosen = room.server.services.sites.settings_of(room.site_a).sign_in
    assert (chosen.email, chosen.passkeys, chosen.providers) == (False, True, ())
    offer = httpx.get(f"{room.server.url}/auth/providers",
                      params={"site": room.site_a}).json()
    assert offer["email"] is False and offer["providers"] == []
    assert _save(room, sign_in_email="1", sign_in_all="1").status_code == 303
    chosen = room.server.services.sites.settings_of(room.site_a).sign_in
    assert chosen.email is True and chosen.providers is None


def test_an_owner_adds_and_removes_a_provider_of_the_sites_own(newsroom: Newsroom) -> None:
    room = newsroom
    url = f"/admin/sites/{room.site_a}/providers"
    form = {"op": "add", "name": "kc", "label": "Gazette ID",
            "issuer": "https://id.gazette.example/realms/readers", "client_id": "comments",
            "client_secret": "hush"}
    assert room.owner.post(url, form, csrf=False).status_code == 403
    assert room.moderator.post(url, form).status_code == 403
    added = room.owner.post(url, form)
    assert added.status_code == 303, added.text
    page = room.owner.page(f"/admin/sites/{room.site_a}/settings")
    assert page.xpath('//ul[@class="providers"]/li/@data-provider') == ["kc"]
    assert "hush" not in room.owner.get(f"/admin/sites/{room.site_a}/settings").text
    offer = httpx.get(f"{room.server.url}/auth/providers",
                      params={"site": room.site_a}).json()
    assert {"name": f"{room.site_a}.kc", "label": "Gazette ID"} in offer["providers"]
    bad = room.owner.post(url, {**form, "name": "other", "issuer": "http://id.example.com"})
    assert bad.status_code == 422
    entries = room.owner.get("/admin/audit.json", site=room.site_a,
                             action="site_provider_added").json()["entries"]
    assert entries and "hush" not in str(entries)
    assert room.owner.post(url, {"op": "remove", "name": "kc"}).status_code == 303
    assert room.server.services.site_providers.of_site(room.site_a) == []
