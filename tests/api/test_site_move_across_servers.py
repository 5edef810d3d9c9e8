"""`rostra site move` on a database several servers share: every server takes posts from
the new domain at once, not at its next look at the sites (every 5 s, or never while
its view is fresh). The command committed the move without telling the change bus."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from rostra.cli import main
from tests.api.test_change_bus import bus_overrides, two_servers, within

OLD, NEW = "https://old-news.example", "https://new-news.example"


def _post(http: httpx.Client, site: str, origin: str) -> int:
    response = http.post("/api/comments", headers={"Origin": origin}, json={
        "site": site, "thread": "/moved-story/", "name": "Ana",
        "text": "Still here after the move."})
    return response.status_code


@pytest.mark.postgres
@pytest.mark.parametrize("transport", ["postgresql", pytest.param("redis", id="redis")])
def test_a_site_move_reaches_every_server_at_once(transport: str) -> None:
    overrides = bus_overrides(transport)
    with two_servers(**overrides) as (a, b), a.client() as ha, b.client() as hb:
        site = a.add_site("moving", [OLD])
        within(1, lambda: OLD in b.services.sites.get(site).origins)
        # The servers' own view of the sites stays as it is unless they are told.
        for live in (a, b):
            live.services.sites.REFRESH_SECONDS = 3600.0
        assert _post(hb, site, OLD) == 201
        assert _post(hb, site, NEW) == 403
        env = {"ROSTRA_REDIS_URL": overrides["redis_url"]} if "redis_url" in overrides else {}
        moved = CliRunner().invoke(main, ["--database-url", b.settings.database_url, "site",
                                          "move", OLD, NEW], env=env)
        assert moved.exit_code == 0, moved.output
        within(1, lambda: NEW in b.services.sites.get(site).origins)
        within(1, lambda: NEW in a.services.sites.get(site).origins)
        assert _post(hb, site, NEW) == 201
        assert _post(ha, site, NEW) == 201
        assert _post(hb, site, OLD) == 403
