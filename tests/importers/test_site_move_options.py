"""`rostra site move --site S [--keep-old-origin]`, and threads whose URL is not on the old
origin, cannot be read, or whose key is an explicit id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, thread_by_key
from sqlalchemy import insert, select

from rostra.store.tables import sites, threads


def _origins(rostra: Rostra, site: str) -> list[str]:
    with rostra.db.read() as conn:
        return list(conn.scalar(select(sites.c.origins).where(sites.c.id == site)))


def test_it_moves_only_the_named_site_and_keeps_the_old_origin_when_asked(
    rostra: Rostra, tmp_path: Path
) -> None:
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "news.xml", [
        WpPost(1, "A", "http://old.example/a/", comments=[WpComment(1, "x")])]),
        "--site", "news", "--origin", "http://old.example")
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "blog.xml", [
        WpPost(2, "B", "http://old.example/b/", comments=[WpComment(2, "y")])]),
        "--site", "blog", "--origin", "https://blog.example")
    result = rostra.ok("site", "move", "http://old.example", "https://new.example",
                       "--site", "blog", "--keep-old-origin")
    assert " ".join(result.output.split()) == \
        "Moved blog from http://old.example to https://new.example: 1 threads."
    assert _origins(rostra, "blog") == ["https://blog.example", "https://new.example"]
    assert _origins(rostra, "news") == ["http://old.example"]
    assert thread_by_key(rostra.db, "blog", "/b").url == "https://new.example/b"
    assert thread_by_key(rostra.db, "news", "/a").url == "http://old.example/a/"
    missing = rostra.run("site", "move", "http://old.example", "https://new.example",
                         "--site", "gazette")
    assert missing.exit_code == 1 and "no site 'gazette'" in missing.output


def test_it_moves_explicit_keys_urls_and_leaves_urls_it_cannot_read(
    rostra: Rostra, tmp_path: Path
) -> None:
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "news.xml", [
        WpPost(1, "A", "http://old.example/a/", comments=[WpComment(1, "x")])]),
        "--site", "news", "--origin", "http://old.example")
    now = datetime.now(UTC)
    with rostra.db.write() as conn:  # threads as older versions or other tools wrote them
        conn.execute(insert(threads), [
            {"site_id": "news", "key": "article-17", "url": "http://old.example/17?x=1",
             "created_at": now, "updated_at": now},
            {"site_id": "news", "key": "broken", "url": "http://old.example:99999/",
             "created_at": now, "updated_at": now},
        ])
    result = rostra.ok("site", "move", "http://old.example", "https://new.example")
    assert "2 threads" in result.output
    assert thread_by_key(rostra.db, "news", "article-17").url == "https://new.example/17?x=1"
    assert thread_by_key(rostra.db, "news", "/a").url == "https://new.example/a"
    assert thread_by_key(rostra.db, "news", "broken").url == "http://old.example:99999/"
    assert _origins(rostra, "news") == ["https://new.example"]
