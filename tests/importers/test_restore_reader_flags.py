"""Readers' flags survive export and restore: a comment they held stays held with them,
moderators' flagged queue reads the same, and the flags keep counting towards the
site's ``flags_to_hold`` on the new server (docs/import-export.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from import_helpers import Rostra
from sqlalchemy import func, select
from tests.conftest import ORIGIN, LiveServer, Reader, _start_live_server, all_ids

from rostra.store.db import Database
from rostra.store.moderation_tables import flags
from rostra.store.tables import comments

TOKEN = "restore-test-token"
STAFF = {"Authorization": f"Bearer {TOKEN}"}


@contextmanager
def serving(rostra: Rostra) -> Iterator[tuple[LiveServer, httpx.Client]]:
    """A server on ``rostra``'s database, with a staff token, while the block runs."""
    backend = "postgres" if rostra.url.startswith("postgresql") else "sqlite"
    live, server = _start_live_server(rostra.url, backend, admin_token=TOKEN)
    try:
        with live.client() as http:
            yield live, http
    finally:
        server.stop()
        live.services.db.dispose()


def flag(http: httpx.Client, reader: Reader, comment_id: int, reason: str) -> None:
    done = http.post(f"/api/comments/{comment_id}/flag", json={"reason": reason,
                     "note": f"{reader.name} says so"}, headers=reader.headers())
    assert done.status_code == 202, done.text


def queue(http: httpx.Client, kind: str) -> list[tuple[int, list[Any]]]:
    """(comment id, its flags as moderators see them) of a moderation queue."""
    got = http.get("/api/moderation/queue", params={"site": "news", "kind": kind},
                   headers=STAFF)
    assert got.status_code == 200, got.text
    return [(c["id"], c["flags"]) for c in got.json()["comments"]]


def again(reader: Reader, http: httpx.Client) -> Reader:
    """The same reader (browser and address) on another server."""
    return Reader(reader.name, http, reader.site, voter=reader.voter, ip=reader.ip)


def flag_rows(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return sorted(tuple(r) for r in conn.execute(select(flags)))


def test_open_flags_survive_a_move_and_keep_counting(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    with serving(source) as (live, http):
        live.add_site("news", [ORIGIN], moderation={"thresholds": {"flags_to_hold": 2}})
        ana = Reader("Ana", http, "news")
        held, open_one, answered = (
            ana.post("/story", text).json()["comment"]["id"] for text in (
                "A comment two readers will report.", "A comment one reader will report.",
                "A comment a moderator will keep after a report."))
        ben, cid, dee = (Reader(n, http, "news") for n in ("Ben", "Cid", "Dee"))
        for r in (ben, cid, dee):  # each reader gets a voter id of their own
            r.post("/other", f"Hello from {r.name}, a reader of this site.")
        flag(http, ben, held, "abuse")
        flag(http, cid, held, "off-topic")  # the second flag holds it
        flag(http, ben, open_one, "spam")
        flag(http, dee, answered, "abuse")
        kept = http.post(f"/api/moderation/comments/{answered}/approve", headers=STAFF)
        assert kept.status_code == 200  # its flag is resolved
        flagged, waiting = queue(http, "flagged"), queue(http, "held")
        assert {cid for cid, _ in flagged} == {held, open_one}
        assert [cid for cid, _ in waiting] == [held]
    path = tmp_path / "all.jsonl"
    source.ok("export", path)
    target.ok("import", "rostra", path)
    assert flag_rows(target.db) == flag_rows(source.db)
    with serving(target) as (_live, http):
        assert queue(http, "flagged") == flagged
        assert queue(http, "held") == waiting
        # Ben's flag, restored, still counts: Ben again is counted once; Dee's is the
        # second reader's and holds the comment.
        ana, ben, dee = (again(r, http) for r in (ana, ben, dee))
        flag(http, ben, open_one, "spam")
        assert open_one in all_ids(ana.page("/story")["comments"])
        flag(http, dee, open_one, "abuse")
        assert open_one not in all_ids(ana.page("/story")["comments"])
    # Restoring the file again creates no flag twice.
    before = flag_rows(target.db)
    target.ok("import", "rostra", path)
    assert flag_rows(target.db) == before


def test_a_restored_database_exports_its_flags_as_they_came(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    with serving(source) as (live, http):
        for site in ("news", "other"):
            live.add_site(site, [ORIGIN], moderation={"thresholds": {"flags_to_hold": 5}})
            ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
            comment = ana.post("/story", f"A comment on {site} a reader will report."
                               ).json()["comment"]["id"]
            ben.post("/other", "Hello from Ben, a reader of this site.")
            flag(http, ben, comment, "abuse")
        live.add_site("other", ["https://other.example"])  # an origin names one site
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    source.ok("export", first)
    assert '"type":"flag"' in first.read_text()
    # A restore that meets a bad line takes its flags back with everything else.
    bad = tmp_path / "bad.jsonl"
    bad.write_text(first.read_text() + '{"type":"flag"}\n')
    assert target.run("import", "rostra", bad, "--batch-size", "2").exit_code == 1
    assert flag_rows(target.db) == []
    target.ok("import", "rostra", first)
    target.ok("export", second)
    assert second.read_text() == first.read_text()
    # A site's export holds only its own site's flags.
    source.ok("export", "--site", "news", second)
    assert second.read_text().count('"type":"flag"') == 1


def test_a_version_6_file_without_flags_still_restores(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    with serving(rostra) as (live, http):
        live.add_site("news", [ORIGIN])
        Reader("Ana", http, "news").post("/story", "A comment from before version 7.")
    path = tmp_path / "all.jsonl"
    rostra.ok("export", path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["version"] >= 7
    lines[0]["version"] = 6
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    second_rostra.ok("import", "rostra", path)
    assert flag_rows(second_rostra.db) == []
    with second_rostra.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(comments)) == 1
