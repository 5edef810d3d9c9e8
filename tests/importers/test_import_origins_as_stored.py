"""An import into an existing site adds its origins to the site as it is then: it read
the site's origins, and wrote them back with its own added, losing an origin another
change (an administrator, another import) added meanwhile (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from import_builders import DisqusPost, DisqusThread, write_disqus
from import_helpers import Rostra
from sqlalchemy import text
from tests.conftest import side_by_side

from rostra.importers.disqus import read_disqus
from rostra.services.import_records import ImportSource, ImportSummary
from rostra.services.importing import ImportEngine, file_fingerprint
from rostra.services.sites import SiteService

pytestmark = pytest.mark.postgres


def _import(engine: ImportEngine, path: Path) -> ImportSummary:
    with path.open("rb") as source:
        return engine.run(read_disqus(source))


def test_an_import_keeps_an_origin_added_while_it_waited(
    pg_rostra: Rostra, tmp_path: Path,
) -> None:
    db = pg_rostra.db
    SiteService(db).create("news", "News", ["https://news.example"])
    path = write_disqus(tmp_path / "disqus.xml",
                        [DisqusThread("100", "https://news.example/a/")],
                        [DisqusPost("1", "100", "<p>Hello</p>")])
    engine = ImportEngine(db, source=ImportSource.DISQUS, site_id="news",
                          fingerprint=file_fingerprint(path),
                          origins=["https://www.news.example"])

    def add_an_origin(conn: Any) -> None:  # as an administrator's add_origin, meanwhile
        conn.execute(text("UPDATE sites SET origins = :o WHERE id = 'news'"),
                     {"o": '["https://m.news.example", "https://news.example"]'})

    [summary] = side_by_side(db, "LOCK TABLE sites IN SHARE ROW EXCLUSIVE MODE", {},
                             [lambda: _import(engine, path)],
                             add_an_origin)
    assert not isinstance(summary, Exception), summary
    assert SiteService(db).get("news").origins == (
        "https://m.news.example", "https://news.example", "https://www.news.example")
