"""The operator's path, run as an operator runs it: real `rostra` processes in a folder."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import run


def test_it_manages_the_origins_of_a_site(tmp_path: Path) -> None:
    assert run(["init"], tmp_path).returncode == 0
    assert run(["site", "add", "news", "--name", "News", "--origin", "https://news.example"],
               tmp_path).returncode == 0
    assert run(["site", "add", "blog", "--name", "Blog"], tmp_path).returncode == 0
    added = run(["site", "origin", "add", "blog", "HTTPS://Blog.Example:443/"], tmp_path)
    assert added.returncode == 0, added.stderr
    assert run(["site", "origin", "add", "blog", "https://www.blog.example"],
               tmp_path).returncode == 0
    listed = run(["site", "origin", "list", "blog"], tmp_path)
    assert listed.stdout.splitlines() == ["https://blog.example", "https://www.blog.example"]
    taken = run(["site", "origin", "add", "blog", "https://news.example"], tmp_path)
    assert taken.returncode == 1
    assert "origin https://news.example is already allowed by site 'news'" in taken.stderr
    assert "Traceback" not in taken.stderr
    also_taken = run(["site", "add", "third", "--name", "Third",
                      "--origin", "https://news.example"], tmp_path)
    assert also_taken.returncode == 1 and "already allowed by site 'news'" in also_taken.stderr
    removed = run(["site", "origin", "remove", "blog", "https://www.blog.example/"], tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert run(["site", "origin", "list", "blog"], tmp_path).stdout.splitlines() == [
        "https://blog.example"]
    missing = run(["site", "origin", "remove", "blog", "https://nope.example"], tmp_path)
    assert missing.returncode == 1 and "does not allow the origin" in missing.stderr
    unknown = run(["site", "origin", "list", "nosuch"], tmp_path)
    assert unknown.returncode == 1 and "no site with id 'nosuch'" in unknown.stderr
    bad = run(["site", "origin", "add", "blog", "ftp://x"], tmp_path)
    assert bad.returncode == 1 and "not an origin" in bad.stderr
    # Once a site gives an origin up, another may take it.
    assert run(["site", "origin", "remove", "news", "https://news.example"],
               tmp_path).returncode == 0
    assert run(["site", "origin", "add", "blog", "https://news.example"],
               tmp_path).returncode == 0
