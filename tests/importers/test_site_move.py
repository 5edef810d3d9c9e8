"""`rostra site move`: a site on a new domain keeps its threads under old and new URLs."""

from __future__ import annotations

from pathlib import Path

from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, thread_by_key
from sqlalchemy import select

from rostra.store import queries
from rostra.store.tables import sites


def test_it_moves_origins_and_urls_and_old_urls_still_resolve(
    rostra: Rostra, tmp_path: Path
) -> None:
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "w.xml", [
        WpPost(1, "A", "http://old.example/2020/a/?page=2", comments=[WpComment(1, "x")]),
        WpPost(2, "B", "https://elsewhere.example/b/", comments=[WpComment(2, "y")]),
    ]), "--site", "news", "--origin", "http://old.example")
    result = rostra.ok("site", "move", "http://OLD.example:80", "https://new.example")
    assert "1 threads" in result.output
    with rostra.db.read() as conn:
        assert conn.scalar(select(sites.c.origins).where(sites.c.id == "news")) == [
            "https://new.example"]
    moved = thread_by_key(rostra.db, "news", "/2020/a?page=2")
    assert moved.url == "https://new.example/2020/a?page=2"
    with rostra.db.read() as conn:
        for old in ("http://old.example/2020/a/?page=2", "/?p=1", "1"):
            from rostra.core.thread_keys import thread_key

            assert queries.find_thread(conn, "news", thread_key(old)).id == moved.id
    assert thread_by_key(rostra.db, "news", "/b").url == "https://elsewhere.example/b/"


def test_it_says_when_no_site_has_the_origin(rostra: Rostra) -> None:
    result = rostra.run("site", "move", "https://nowhere.example", "https://new.example")
    assert result.exit_code == 1 and "no site allows" in result.output


def test_it_refuses_a_move_to_the_same_origin(rostra: Rostra, tmp_path: Path) -> None:
    # It reported "Moved news from … to …" and recorded the site and its threads as changed.
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "w.xml", [
        WpPost(1, "A", "https://news.example/a/", comments=[WpComment(1, "x")])]),
        "--site", "news", "--origin", "https://news.example")
    result = rostra.run("site", "move", "https://news.example", "HTTPS://News.Example:443/")
    assert result.exit_code == 1, result.output
    assert result.output.strip() == ("Error: https://news.example is both the old and the new "
                                     "origin: nothing to move")


def test_it_refuses_an_origin_another_site_allows(rostra: Rostra, tmp_path: Path) -> None:
    wxr = write_wxr(tmp_path / "w.xml", [
        WpPost(1, "A", "https://news.example/a/", comments=[WpComment(1, "x")])])
    rostra.ok("import", "wordpress", wxr, "--site", "news", "--origin", "https://news.example")
    rostra.ok("import", "wordpress", wxr, "--site", "blog", "--origin", "https://blog.example")
    # Importing into another site (new or existing) with an origin that "news" allows.
    for site in ("other", "blog"):
        result = rostra.run("import", "wordpress", wxr, "--site", site,
                            "--origin", "https://news.example")
        assert result.exit_code == 1
        assert "origin https://news.example is already allowed by site 'news'" in result.output
    with rostra.db.read() as conn:
        assert conn.scalar(select(sites.c.origins).where(sites.c.id == "blog")) == [
            "https://blog.example"]
        assert conn.scalar(select(sites.c.id).where(sites.c.id == "other")) is None
    moved = rostra.run("site", "move", "https://blog.example", "https://news.example")
    assert moved.exit_code == 1 and "already allowed by site 'news'" in moved.output


def test_it_refuses_a_restored_site_whose_origin_another_site_allows(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    wxr = write_wxr(tmp_path / "w.xml", [
        WpPost(1, "A", "https://news.example/a/", comments=[WpComment(1, "x")])])
    rostra.ok("import", "wordpress", wxr, "--site", "news", "--origin", "https://news.example")
    rostra.ok("export", tmp_path / "news.jsonl")
    second_rostra.ok("import", "wordpress", wxr, "--site", "gazette",
                     "--origin", "https://news.example")
    result = second_rostra.run("import", "rostra", tmp_path / "news.jsonl")
    assert result.exit_code == 1
    assert "origin https://news.example is already allowed by site 'gazette'" in result.output
    with second_rostra.db.read() as conn:
        assert conn.scalar(select(sites.c.id).where(sites.c.id == "news")) is None
