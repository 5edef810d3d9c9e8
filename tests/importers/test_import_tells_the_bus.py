"""A finished import tells the other servers at once, over the change bus, which threads
it changed: their cached pages of those threads show the imported comments without
waiting for a poll (every minute here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra
from tests.api.test_change_bus import two_servers, within
from tests.conftest import ORIGIN, Reader, all_ids

from rostra.store.db import Database


@pytest.mark.postgres
def test_the_other_servers_cached_pages_show_an_import_at_once(tmp_path: Path) -> None:
    with two_servers() as (a, b), a.client() as ha, b.client() as hb:
        site = a.add_site("imported", [ORIGIN])
        within(1, lambda: b.services.sites.get(site) is not None)
        before = Reader("Ana", ha, site).post("/a", "Before the import").json()["comment"]["id"]
        on_b = Reader("Ben", hb, site)
        assert all_ids(on_b.page("/a")["comments"]) == [before]  # B caches the page
        path = write_wxr(tmp_path / "w.xml", [WpPost(1, "A", "https://news.example/a/",
                                                     comments=[WpComment(11, "Imported"),
                                                               WpComment(12, "Another")])])
        command = Rostra(a.settings.database_url, Database(a.settings.database_url))
        try:
            command.ok("import", "wordpress", path, "--site", site)
        finally:
            command.db.dispose()
        within(3, lambda: len(all_ids(on_b.page("/a")["comments"])) == 3)
        assert on_b.page("/a")["thread"]["total"] == 3
