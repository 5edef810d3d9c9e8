"""Restoring the same Rostra file again creates nothing twice (docs/import-export.md,
"Idempotent"): what the first restore made and was taken away since (a vote its reader
took back, a subscriber erased) stays away, and the run counts it as already imported
instead of failing on its bookkeeping."""

from __future__ import annotations

from pathlib import Path

from import_helpers import Rostra, last_summary, subscriptions_of, votes_of
from sqlalchemy import func, select
from test_wordpress import site_file, subscription_dump
from tests.conftest import ORIGIN, Reader, _start_live_server

from rostra.services.personal_data import PersonalData
from rostra.store.notify_tables import notify_addresses

PAGE = "https://news.example/a/"


def test_it_restores_a_file_again_after_a_restored_vote_was_taken_back(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    name = "postgres" if source.url.startswith("postgresql") else "sqlite"
    # Both servers keep one secret_key, so Ben's browser is the same voter on both.
    live, server = _start_live_server(source.url, name)
    try:
        live.add_site("news", [ORIGIN])
        with live.client() as http:
            ana, ben = Reader("Ana", http, "news"), Reader("Ben", http, "news")
            comment = ana.post(PAGE, "Worth a vote").json()["comment"]["id"]
            assert ben.vote(comment, 1).status_code == 200
    finally:
        server.stop()
        live.services.db.dispose()
    path = tmp_path / "all.jsonl"
    source.ok("export", path)
    target.ok("import", "rostra", path)
    assert list(votes_of(target.db, comment).values()) == [1]

    live, server = _start_live_server(target.url, name)
    try:
        with live.client() as http:
            ben = Reader("Ben", http, "news", voter=ben.voter, ip=ben.ip)
            taken_back = ben.vote(comment, 0)
            assert taken_back.status_code == 200, taken_back.text
    finally:
        server.stop()
        live.services.db.dispose()
    assert votes_of(target.db, comment) == {}

    result = target.run("import", "rostra", path)
    said = " ".join(result.output.split())
    assert result.exit_code == 0, said
    assert votes_of(target.db, comment) == {}  # Ben's choice stands
    summary = last_summary(target.db)
    assert summary["votes_created"] == 0 and summary["comments_created"] == 0
    assert summary["already_imported"] == summary["items"]


def test_it_restores_a_file_again_without_bringing_back_an_erased_subscriber(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    source.ok("import", "wordpress", site_file(tmp_path), "--site", "news",
              "--wpdiscuz-sql", subscription_dump(tmp_path / "subs.sql"))
    path = tmp_path / "all.jsonl"
    source.ok("export", path)
    target.ok("import", "rostra", path)
    erased = "bo@example.com"
    assert erased in {email for email, *_ in subscriptions_of(target.db, "news")}
    name = "postgres" if target.url.startswith("postgresql") else "sqlite"
    live, server = _start_live_server(target.url, name)
    try:
        PersonalData(live.services.comments).forget(erased, actor="test")
    finally:
        server.stop()
        live.services.db.dispose()
    left = subscriptions_of(target.db, "news")

    result = target.run("import", "rostra", path)
    said = " ".join(result.output.split())
    assert result.exit_code == 0, said
    assert subscriptions_of(target.db, "news") == left
    with target.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(notify_addresses)
                           .where(notify_addresses.c.email == erased)) == 0
    assert last_summary(target.db)["addresses_created"] == 0
