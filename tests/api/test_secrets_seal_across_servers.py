"""`rostra secrets seal` on a database several servers share: a site's provider whose
client secret was sealed under the previous secret_key, which each server remembers as
not offered, is offered by every server as soon as the command re-seals it, not when
their memory of it runs out. The command re-sealed it without telling the change bus."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from rostra.cli import main
from rostra.core.sealing import Purpose, Sealer
from rostra.store.site_provider_tables import site_oidc_providers
from tests.api.test_change_bus import bus_overrides, two_servers, within
from tests.conftest import ORIGIN, LiveServer

BEFORE_KEY = "the-secret-key-before-the-operator-changed-it"


def _offered(live: LiveServer, site: str) -> list[str]:
    return [p.name for p in live.services.site_providers.of_site(site)]


@pytest.mark.postgres
@pytest.mark.parametrize("transport", ["postgresql", pytest.param("redis", id="redis")])
def test_a_resealed_provider_is_offered_by_every_server_at_once(
    transport: str, tmp_path: Path
) -> None:
    overrides = bus_overrides(transport)
    with two_servers(**overrides) as (a, b):
        site = a.add_site("resealed", [ORIGIN])
        with a.services.db.write() as conn:
            conn.execute(insert(site_oidc_providers).values(
                site_id=site, name="newsroom", label="Newsroom ID",
                issuer="https://id.example", client_id="comments",
                client_secret=Sealer(BEFORE_KEY).seal("the-client-secret",
                                                      Purpose.SITE_PROVIDER),
                scopes="openid", created_at=datetime.now(UTC)))
        for live in (a, b):
            # What each server remembers stays as it is unless it is told.
            live.services.site_providers.cache.ttl = 3600.0
            assert _offered(live, site) == []
        old_key = tmp_path / "old-key"
        old_key.write_text(BEFORE_KEY, encoding="utf-8")
        env = {"ROSTRA_SECRET_KEY": a.settings.secret_key}
        if "redis_url" in overrides:
            env["ROSTRA_REDIS_URL"] = overrides["redis_url"]
        sealed = CliRunner().invoke(main, ["--database-url", a.settings.database_url,
                                           "secrets", "seal", "--previous-key-file",
                                           str(old_key)], env=env)
        assert sealed.exit_code == 0, sealed.output
        assert "1 re-sealed from the previous key" in sealed.output
        within(1, lambda: _offered(b, site) == ["newsroom"])
        within(1, lambda: _offered(a, site) == ["newsroom"])
        assert b.services.site_providers.get(site, "newsroom").client_secret == (
            "the-client-secret")
