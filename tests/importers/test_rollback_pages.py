"""An import that fails, or is undone, takes its comments off the pages a running server
has cached: the threads it leaves standing are stamped, with their counts as they are
again, and the other processes hear of it (the change bus, or their poll)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from import_builders import WpComment, WpPost, write_wxr
from tests.conftest import LiveServer, Reader, all_ids

from rostra.importers.wordpress import read_wordpress
from rostra.services.import_records import ImportItem, ImportSource
from rostra.services.import_rollback import rollback_run
from rostra.services.importing import ImportEngine
from rostra.store.db import Database


class BadInput(Exception):
    """What an importer raises on a malformed file, late in it."""


def shown(reader: Reader, thread: str) -> list[int]:
    return sorted(all_ids(reader.page(thread)["comments"]))


def wait_for_page(reader: Reader, thread: str, ids: list[int], timeout: float = 10.0) -> None:
    """Wait until the server's page of ``thread`` shows the comments ``ids``."""
    deadline = time.monotonic() + timeout
    while (now := shown(reader, thread)) != ids:
        assert time.monotonic() < deadline, f"the page still shows {now}, not {ids}"
        time.sleep(0.05)


def _export(tmp_path: Path) -> Path:
    # Page /a is the site's (a reader commented there before the import); /b is new.
    return write_wxr(tmp_path / "w.xml", [
        WpPost(1, "A", "https://news.example/a/", comments=[
            WpComment(11, "Imported"), WpComment(12, "A reply", parent=11),
            WpComment(13, "Another")]),
        WpPost(2, "B", "https://news.example/b/", comments=[WpComment(21, "On B")]),
    ])


@pytest.fixture
def importer(server: LiveServer) -> Iterator[Database]:
    """The database as `rostra import` opens it: another process's pool, whose writes
    the server hears of from the change bus or its poll only."""
    db = Database(server.settings.database_url)
    yield db
    db.dispose()


def test_it_takes_a_failed_imports_comments_off_cached_pages(
    importer: Database, ana: Reader, tmp_path: Path
) -> None:
    posted = ana.post("/a", "Before the import").json()["comment"]["id"]
    path = _export(tmp_path)
    cached: list[dict[str, Any]] = []

    def failing_late() -> Iterator[ImportItem]:
        with open(path, "rb") as fh:
            # One item a batch: each is written before the next is read.
            yield from read_wordpress(fh)
        # Readers open the page while the import runs: the server caches it.
        cached.append(ana.page("/a"))
        raise BadInput("line 99: not well-formed")

    engine = ImportEngine(importer, source=ImportSource.WORDPRESS, site_id=ana.site,
                          fingerprint="failing", batch_size=1)
    with pytest.raises(BadInput):
        engine.run(failing_late())
    assert len(all_ids(cached[0]["comments"])) == 4  # what the server had cached
    wait_for_page(ana, "/a", [posted])
    thread = ana.page("/a")["thread"]
    assert (thread["total"], thread["top_level"]) == (1, 1)
    assert ana.page("/b")["thread"] is None


def test_it_takes_an_undone_imports_comments_off_cached_pages(
    importer: Database, ana: Reader, tmp_path: Path
) -> None:
    before = ana.post("/a", "Before the import").json()["comment"]["id"]
    with open(_export(tmp_path), "rb") as fh:
        summary = ImportEngine(importer, source=ImportSource.WORDPRESS, site_id=ana.site,
                               fingerprint="undone").run(read_wordpress(fh))
    # A reader comments after the import; the page as the server caches it now:
    after = ana.post("/a", "After the import").json()["comment"]["id"]
    cached = ana.page("/a")
    assert len(all_ids(cached["comments"])) == 5
    assert (cached["thread"]["total"], cached["thread"]["top_level"]) == (5, 4)

    rollback_run(importer, summary.run_id)

    wait_for_page(ana, "/a", [before, after])
    thread = ana.page("/a")["thread"]
    assert (thread["total"], thread["top_level"]) == (2, 2)
