"""Two records of a Rostra file that the database keeps unique together (two sites' pages
of one key put on one site with --site, an address or a subscription copied under
another id) stop the restore with what they share, not an IntegrityError traceback, and
nothing of the file is written (docs/import-export.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, refused_restore
from test_wordpress import site_file, subscription_dump

Lines = list[dict[str, Any]]


def _two_sites(rostra: Rostra, tmp_path: Path) -> Lines:
    """Two sites that each have an /about/ page, exported together."""
    for site in ("news", "blog"):
        rostra.ok("import", "wordpress", write_wxr(tmp_path / f"{site}.xml", [
            WpPost(1, "About", f"https://{site}.example/about/",
                   comments=[WpComment(1, f"About {site}")])]), "--site", site)
    return _export(rostra, tmp_path)


def _subscribers(rostra: Rostra, tmp_path: Path) -> Lines:
    rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news",
              "--wpdiscuz-sql", subscription_dump(tmp_path / "subs.sql"))
    return _export(rostra, tmp_path)


def _export(rostra: Rostra, tmp_path: Path) -> Lines:
    path = tmp_path / "all.jsonl"
    rostra.ok("export", path)
    return [json.loads(line) for line in path.read_text().splitlines()]


def _copied(kind: str) -> Callable[[Lines], Lines]:
    """The file with the first record of ``kind`` copied under a new id after it."""
    def copy(lines: Lines) -> Lines:
        at = next(i for i, line in enumerate(lines) if line["type"] == kind)
        return lines[:at + 1] + [{**lines[at], "id": 9_999}] + lines[at + 1:]
    return copy


CASES = {
    # (what the source holds, what is done to the file, --site, what the message says)
    "two sites' pages on one site": (_two_sites, lambda lines: lines, "one",
                                     "(--site one puts every site of the file on it)"),
    "a thread copied": (_two_sites, _copied("thread"), None, "'/about'"),
    "an address copied": (_subscribers, _copied("address"), None, "'ana@example.com'"),
    "a subscription copied": (_subscribers, _copied("subscription"), None,
                              "subscription"),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("batch_size", ["1", "5000"])
def test_it_refuses_two_records_the_database_keeps_unique(
    backend: tuple[Rostra, Rostra], tmp_path: Path, case: str, batch_size: str,
) -> None:
    fill, tamper, site, said_of = CASES[case]
    source, target = backend
    said = refused_restore(target, tmp_path / "twice.jsonl", tamper(fill(source, tmp_path)),
                           "--batch-size", batch_size, *(("--site", site) if site else ()))
    assert said_of in said, said
