"""Malformed files stop with their position and leave the database as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, counts
from sqlalchemy import select

from rostra.services.import_records import ImportSource
from rostra.services.import_rollback import rollback_run
from rostra.services.importing import ImportEngine
from rostra.store.import_tables import import_runs

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rss><channel><item><title>&lol3;</title></item></channel></rss>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&xxe;</title></item></channel></rss>
"""


def _many_posts(n: int) -> list[WpPost]:
    return [WpPost(i, f"P{i}", f"https://news.example/p{i}/",
                   comments=[WpComment(i * 10 + j, f"c{j}", parent=(i * 10 if j else 0))
                             for j in range(3)]) for i in range(1, n + 1)]


def test_it_names_line_column_and_element_and_changes_nothing(
    rostra: Rostra, tmp_path: Path
) -> None:
    good = write_wxr(tmp_path / "good.xml", _many_posts(30)).read_text()
    # Break the file late, after several batches have been written.
    broken = good.replace("<wp:comment_parent>290</wp:comment_parent>",
                          "<wp:comment_parent>290</wp:comment_parnt>")
    path = tmp_path / "broken.xml"
    path.write_text(broken)
    line = broken[:broken.index("</wp:comment_parnt>")].count("\n") + 1
    before = counts(rostra.db)
    result = rostra.run("import", "wordpress", path, "--site", "news", "--batch-size", "5")
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert f"line {line}, column" in message
    assert "element <wp:comment>" in message and "comment_parent" in message
    assert "database is as it was" in message
    assert counts(rostra.db) == before


def test_it_names_a_bad_value_and_its_element(rostra: Rostra, tmp_path: Path) -> None:
    path = write_wxr(tmp_path / "x.xml", [WpPost(1, "A", "https://news.example/a/", comments=[
        WpComment(1, "ok"), WpComment(2, "bad date", date_gmt="yesterday")])])
    result = rostra.run("import", "wordpress", path, "--site", "news")
    assert result.exit_code == 1
    assert "element <wp:comment>" in result.output and "comment 2" in result.output
    assert counts(rostra.db)["comments"] == 0


@pytest.mark.parametrize("document", [LAUGHS, EXTERNAL], ids=["billion-laughs", "external"])
def test_it_refuses_entities(rostra: Rostra, tmp_path: Path, document: str) -> None:
    path = tmp_path / "evil.xml"
    path.write_text(document)
    before = counts(rostra.db)
    result = rostra.run("import", "wordpress", path, "--site", "news")
    assert result.exit_code == 1
    assert "DOCTYPE is not allowed" in result.output
    assert "root:" not in result.output
    assert counts(rostra.db) == before  # not even the site was left behind


def test_it_rejects_broken_json_lines_with_the_line(rostra: Rostra, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"format":"rostra","type":"header","version":1}\n{"type": "site",\n')
    result = rostra.run("import", "rostra", path)
    assert result.exit_code == 1 and "line 2, column" in result.output


def test_it_resumes_an_interrupted_import(rostra: Rostra, tmp_path: Path) -> None:
    path = write_wxr(tmp_path / "w.xml", _many_posts(10))
    from rostra.importers.wordpress import read_wordpress

    def interrupted() -> object:
        with open(path, "rb") as fh:
            for n, item in enumerate(read_wordpress(fh)):
                if n == 20:
                    raise KeyboardInterrupt
                yield item

    engine = ImportEngine(rostra.db, source=ImportSource.WORDPRESS, site_id="news",
                          fingerprint="same-file", batch_size=4)
    with pytest.raises(KeyboardInterrupt):
        engine.run(interrupted())  # type: ignore[arg-type]
    partial = counts(rostra.db)["comments"]
    assert 0 < partial < 30
    with open(path, "rb") as fh:
        summary = ImportEngine(rostra.db, source=ImportSource.WORDPRESS, site_id="news",
                               fingerprint="same-file", batch_size=4).run(read_wordpress(fh))
    assert summary.resumed and summary.already_imported == partial
    assert counts(rostra.db)["comments"] == 30
    with rostra.db.read() as conn:
        assert [r.status for r in conn.execute(select(import_runs.c.status))] == ["done"]
    # A resumed run that is undone takes the interrupted part with it.
    rollback_run(rostra.db, summary.run_id)
    assert counts(rostra.db)["comments"] == 0 and counts(rostra.db)["sites"] == 0


HEADER = '{"format":"rostra","type":"header","version":2}'


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ('{"type":"site","id":"news","name":"News"}\n', "line 1"),
    ('{"format":"isso","type":"header","version":2}\n', "no header"),
    ('{"format":"rostra","type":"site","version":2}\n', "no header"),
    ('{"format":"rostra","type":"header","version":99}\n', "version 99"),
    ('{"format":"rostra","type":"header","version":"2"}\n', "version '2'"),
    ('{"format":"rostra","type":"header"}\n', "version None"),
    ('[1, 2]\n', "not a JSON object"),
    (HEADER + '\n"a string"\n', "line 2"),
    (HEADER + '\n[{"type":"site"}]\n', "line 2"),
    (HEADER + '\nnull\n', "not a JSON object"),
])
def test_it_refuses_rostra_files_with_a_bad_header_version_or_line(
    rostra: Rostra, tmp_path: Path, text: str, message: str
) -> None:
    before = counts(rostra.db)
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    result = rostra.run("import", "rostra", path)
    assert result.exit_code == 1, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert counts(rostra.db) == before
