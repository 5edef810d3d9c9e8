"""Authors' reputation survives export and restore: a commenter the site trusted before
a move is trusted after it, by the address they write with (keyed again with the new
database's salt) or the browser they write from (docs/import-export.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from import_helpers import Rostra, last_summary
from sqlalchemy import insert, select
from test_restore_reader_flags import STAFF, again, serving
from tests.conftest import ORIGIN, Reader
from tests.moderation.test_regular_badge import flags

from rostra.moderation.identity import email_key
from rostra.store.db import Database
from rostra.store.moderation_tables import author_stats
from rostra.store.tables import meta

# First-time authors held, and the next one too: two approvals make an author trusted.
POLICY = {"mode": "first_time",
          "trust": {"first_comments_held": 2, "trusted_after": 2, "regular_badge": True}}


def post(reader: Reader, text: str, **extra: Any) -> dict[str, Any]:
    done = reader.post("/story", text, **extra)
    assert done.status_code == 201, done.text
    comment: dict[str, Any] = done.json()["comment"]
    return comment


def approve(http: httpx.Client, comment_id: int) -> None:
    done = http.post(f"/api/moderation/comments/{comment_id}/approve", headers=STAFF)
    assert done.status_code == 200, done.text


def salt_of(db: Database) -> str:
    with db.read() as conn:
        return str(conn.scalar(select(meta.c.value).where(meta.c.key == "ip_salt")))


def test_a_trusted_author_is_published_with_the_badge_after_a_move(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    with serving(source) as (live, http):
        live.add_site("news", [ORIGIN], moderation=POLICY)
        # Ana writes with her address, Ben anonymously from his browser.
        ana, ben = Reader("Ana", http, "news"), Reader("Ben", http, "news")
        mine = {"email": "Ana@Example.org"}
        for text in ("My first comment on this site.", "And a second one, also held."):
            held = post(ana, text, **mine)
            assert held["state"] == "pending"
            approve(http, held["id"])
        for text in ("Ben's first comment on this site.", "Ben's second, also held."):
            approve(http, post(ben, text)["id"])
        trusted = [post(ana, "Trusted now: published at once.", **mine),
                   post(ben, "Ben is trusted too.")]
        assert [c["state"] for c in trusted] == ["approved", "approved"]
        assert all(flags(ana, "/story").values())
        newcomer = post(Reader("Cy", http, "news"), "Cy is new here.")
        assert newcomer["state"] == "pending"
    path = tmp_path / "all.jsonl"
    source.ok("export", path)
    target.ok("import", "rostra", path)
    with serving(target) as (_live, http):
        ana = Reader("Ana", http, "news")  # another browser: her address makes her known
        ben = again(ben, http)
        after = [post(ana, "Back after the move, published at once.", email="ana@example.org"),
                 post(ben, "Ben, after the move.")]
        assert [c["state"] for c in after] == ["approved", "approved"]
        shown = flags(ana, "/story")
        assert all(shown.values()) and {c["id"] for c in after} <= set(shown)
        assert post(Reader("Cy", http, "news"), "Cy is new here too.")["state"] == "pending"
    assert "email:ana@example.org" in path.read_text()  # the address, not the old key
    with target.db.read() as conn:
        keys = set(conn.scalars(select(author_stats.c.author)))
    assert email_key("ana@example.org", salt_of(target.db)) in keys
    # The restored database exports the same file again.
    again_path = tmp_path / "again.jsonl"
    target.ok("import", "rostra", path)  # a second restore makes nothing twice
    target.ok("export", again_path)
    lines = [line for line in path.read_text().splitlines() if '"type":"author_stat"' in line]
    assert lines and all(line in again_path.read_text() for line in lines)


def test_an_address_the_database_cannot_name_is_skipped_and_counted(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    """A reputation under an address no comment, subscriber or account has any more
    (erased) cannot be keyed again: it would never match, so it is left out and counted."""
    with serving(rostra) as (live, http):
        live.add_site("news", [ORIGIN], moderation=POLICY)
        approve(http, post(Reader("Ana", http, "news"), "Hello.", email="ana@example.org")["id"])
    at = datetime(2024, 3, 1, tzinfo=UTC)
    with rostra.db.write() as conn:
        conn.execute(insert(author_stats).values(
            site_id="news", author=email_key("gone@example.org", salt_of(rostra.db)),
            approved=40, rejected=0, spam=0, notices=0, updated_at=at))
    path = tmp_path / "all.jsonl"
    rostra.ok("export", path)
    # A restore that meets a bad line takes the reputations it wrote back, also on a
    # site that was there before it (which stays).
    header, site = path.read_text().splitlines()[:2]
    assert '"type":"site"' in site
    site_only = tmp_path / "site.jsonl"
    site_only.write_text(f'{header}\n{site}\n{{"records":1,"type":"end"}}\n')
    second_rostra.ok("import", "rostra", site_only)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(path.read_text() + '{"type":"author_stat"}\n')
    assert second_rostra.run("import", "rostra", bad, "--batch-size", "1").exit_code == 1
    with second_rostra.db.read() as conn:
        assert conn.execute(select(author_stats)).all() == []
    said = second_rostra.ok("import", "rostra", path).output
    assert "skipped: author reputation under an address" in said
    [(reason, count)] = last_summary(second_rostra.db)["skipped"].items()
    assert "an address this file does not name" in reason and count == 1
    with second_rostra.db.read() as conn:
        assert len(conn.execute(select(author_stats)).all()) == 1  # Ana's, keyed again
