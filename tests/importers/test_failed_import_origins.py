"""An import that fails leaves the site's allowed origins (the embedding allowlist) as
they were: its --origin used to be added before the first item was read, and stayed."""

from __future__ import annotations

from pathlib import Path

from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra
from sqlalchemy import select

from rostra.services.sites import SiteService
from rostra.store.tables import sites

STORY = "https://news.example/story/"


def _origins(rostra: Rostra, site: str) -> list[str]:
    with rostra.db.read() as conn:
        return list(conn.scalar(select(sites.c.origins).where(sites.c.id == site)))


def _broken(tmp_path: Path) -> Path:
    path = write_wxr(tmp_path / "broken.xml", [WpPost(1, "S", STORY, comments=[
        WpComment(1, "ok"), WpComment(2, "bad date", date_gmt="yesterday")])])
    return path


def test_a_failed_import_adds_no_origin(rostra: Rostra, tmp_path: Path) -> None:
    SiteService(rostra.db).create("news", "News", ["https://news.example"])
    result = rostra.run("import", "wordpress", _broken(tmp_path), "--site", "news",
                        "--origin", "https://evil.example")
    assert result.exit_code == 1 and "database is as it was" in result.output
    assert _origins(rostra, "news") == ["https://news.example"]
    # A run that finishes adds it, beside one added meanwhile by someone else.
    SiteService(rostra.db).add_origin("news", "https://m.news.example")
    good = write_wxr(tmp_path / "good.xml", [WpPost(1, "S", STORY, comments=[WpComment(1, "ok")])])
    rostra.ok("import", "wordpress", good, "--site", "news", "--origin", "https://www.news.example")
    assert _origins(rostra, "news") == [
        "https://m.news.example", "https://news.example", "https://www.news.example"]


def test_a_failed_restore_adds_no_origin(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    good = write_wxr(tmp_path / "good.xml", [WpPost(1, "S", STORY, comments=[WpComment(1, "ok")])])
    rostra.ok("import", "wordpress", good, "--site", "news", "--origin", "https://news.example")
    export = tmp_path / "news.jsonl"
    rostra.ok("export", export)
    second_rostra.ok("import", "rostra", export)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(export.read_text() + '{"type": "comment", "id": "x"}\n')
    result = second_rostra.run("import", "rostra", broken, "--origin", "https://evil.example",
                               "--batch-size", "1")
    assert result.exit_code == 1 and "database is as it was" in result.output
    assert _origins(second_rostra, "news") == ["https://news.example"]
    second_rostra.ok("import", "rostra", export, "--origin", "https://www.news.example")
    assert _origins(second_rostra, "news") == ["https://news.example", "https://www.news.example"]
