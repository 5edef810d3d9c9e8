"""Damage met while reading a file (a gzip file cut short or corrupt, a byte that is not
UTF-8) stops the import with the line it was met on, like any bad input, and leaves the
database as it was: it was a traceback without a place, or click's bare "Aborted!"."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from import_builders import (
    DisqusPost,
    DisqusThread,
    WpComment,
    WpPost,
    remark_comment,
    write_disqus,
    write_remark42,
    write_wxr,
)
from import_helpers import Rostra, counts

PAGE = "https://remark.example/post/1/"


def _said(output: str) -> str:
    return " ".join(output.split())


def _stopped(rostra: Rostra, before: dict[str, int], *args: str | Path) -> str:
    result = rostra.run(*args)
    said = _said(result.output)
    assert result.exit_code == 1, said
    assert "Traceback" not in said and "Aborted!" not in said
    assert "import stopped: line " in said
    assert "Nothing was imported: the database is as it was." in said
    assert counts(rostra.db) == before
    return said


def _disqus_gz(tmp_path: Path) -> bytes:
    threads = [DisqusThread(str(n), f"https://news.example/p{n}/") for n in range(1, 41)]
    posts = [DisqusPost(str(n), str(n % 40 + 1), f"<p>post {n} " * 20 + "</p>")
             for n in range(1, 121)]
    return gzip.compress(write_disqus(tmp_path / "d.xml", threads, posts).read_bytes())


def _wxr_gz(tmp_path: Path) -> bytes:
    posts = [WpPost(n, f"P{n}", f"https://news.example/p{n}/",
                    comments=[WpComment(n * 10 + j, f"comment {j} " * 20) for j in range(3)])
             for n in range(1, 41)]
    return gzip.compress(write_wxr(tmp_path / "w.xml", posts).read_bytes())


def test_a_byte_that_is_not_utf8_names_its_line(rostra: Rostra, tmp_path: Path) -> None:
    path = write_remark42(tmp_path / "backup.jsonl", [
        remark_comment("c1", PAGE, "fine"), remark_comment("c2", PAGE, "café")])
    # An editor saved it as Latin-1: é is the single byte 0xe9 on line 3.
    path.write_bytes(path.read_bytes().replace("é".encode(), b"\xe9"))
    said = _stopped(rostra, counts(rostra.db), "import", "remark42", path, "--site", "r")
    assert "line 3, column" in said and "not UTF-8: byte 0xe9 at byte" in said


def test_a_rostra_export_that_is_not_utf8_names_its_line(rostra: Rostra, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"format":"rostra","type":"header","version":4}\n'
                     b'{"type":"site","id":"n\xff"}\n')
    said = _stopped(rostra, counts(rostra.db), "import", "rostra", path)
    assert "line 2, column" in said and "not UTF-8: byte 0xff" in said


@pytest.mark.parametrize("command", ["wordpress", "disqus"])
def test_a_gzip_file_cut_short_names_the_line_it_ends_on(
    rostra: Rostra, tmp_path: Path, command: str
) -> None:
    data = _wxr_gz(tmp_path) if command == "wordpress" else _disqus_gz(tmp_path)
    path = tmp_path / "cut.xml.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    said = _stopped(rostra, counts(rostra.db), "import", command, path, "--site", "news",
                    "--batch-size", "5")
    assert "the compressed file is cut short" in said


def _cut_gzip(tmp_path: Path, plain: Path) -> Path:
    data = gzip.compress(plain.read_bytes())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def test_a_cut_remark42_backup_names_its_line(rostra: Rostra, tmp_path: Path) -> None:
    plain = write_remark42(tmp_path / "b.jsonl", [
        remark_comment(f"c{n}", PAGE, f"comment {n} " * 30) for n in range(200)])
    said = _stopped(rostra, counts(rostra.db), "import", "remark42",
                    _cut_gzip(tmp_path, plain), "--site", "r", "--batch-size", "5")
    assert "the compressed file is cut short" in said


def test_a_cut_rostra_export_names_its_line(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "w.xml", [
        WpPost(1, "P", "https://news.example/p/",
               comments=[WpComment(n, f"c {n} " * 30) for n in range(1, 200)])]),
        "--site", "news")
    plain = tmp_path / "b.jsonl"
    rostra.ok("export", plain)
    said = _stopped(second_rostra, counts(second_rostra.db), "import", "rostra",
                    _cut_gzip(tmp_path, plain), "--batch-size", "5")
    assert "the compressed file is cut short" in said


def test_a_gzip_file_with_a_bad_checksum_is_damaged(rostra: Rostra, tmp_path: Path) -> None:
    data = bytearray(_wxr_gz(tmp_path))
    data[-8] ^= 0xFF  # the CRC-32 of the data, checked at its end
    path = tmp_path / "bad.xml.gz"
    path.write_bytes(bytes(data))
    said = _stopped(rostra, counts(rostra.db), "import", "wordpress", path, "--site", "news",
                    "--batch-size", "5")
    assert "the compressed file is damaged (CRC check failed" in said
