"""A site's own provider whose client secret was sealed under another secret_key: the
site's settings page (200, never a 5xx) shows it as not offered and why, without the
secret, and its owner can remove it; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert

from rostra.core.sealing import Purpose, Sealer
from rostra.store.site_provider_tables import site_oidc_providers
from tests.admin.conftest import Newsroom

BEFORE = Sealer("the-secret-key-before-the-operator-changed-it")


def test_the_settings_page_shows_a_provider_it_cannot_open(newsroom: Newsroom) -> None:
    room = newsroom
    with room.server.services.db.write() as conn:
        conn.execute(insert(site_oidc_providers).values(
            site_id=room.site_a, name="before", label="Before ID",
            issuer="https://id.example", client_id="comments",
            client_secret=BEFORE.seal("hush-hush", Purpose.SITE_PROVIDER), scopes="openid",
            created_at=datetime.now(UTC)))
    room.server.services.forget_sign_in(room.site_a)
    settings = f"/admin/sites/{room.site_a}/settings"
    page = room.owner.page(settings)
    [entry] = page.xpath('//ul[contains(@class, "unusable")]/li')
    assert entry.get("data-provider") == "before"
    said = entry.xpath('.//span[@class="error"]/text()')[0]
    assert "Not offered" in said and "another secret_key" in said
    assert "rostra secrets seal --previous-key-file" in said
    assert page.xpath('//ul[@class="providers"]/li') == []
    assert "hush-hush" not in room.owner.get(settings).text
    removed = room.owner.post(f"/admin/sites/{room.site_a}/providers",
                              {"op": "remove", "name": "before"})
    assert removed.status_code == 303, removed.text
    assert room.owner.page(settings).xpath('//ul[contains(@class, "unusable")]') == []
