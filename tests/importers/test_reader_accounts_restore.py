"""Readers' accounts move with a restore: a reader who signs in on the new server is the
same account, owns the same comments, and nobody else becomes their owner."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from import_helpers import Rostra
from sqlalchemy import func, insert, select
from tests.api.test_sso import post, signed
from tests.conftest import ORIGIN, _start_live_server

from rostra.store.account_tables import reader_accounts
from rostra.store.notes_tables import comment_notes, note_ratings
from rostra.store.tables import comments


def _backend_name(rostra: Rostra) -> str:
    return "postgres" if rostra.url.startswith("postgresql") else "sqlite"


def _accounts_of(rostra: Rostra, comment_ids: list[int]) -> list[int | None]:
    with rostra.db.read() as conn:
        rows = dict(conn.execute(select(comments.c.id, comments.c.account_id)
                                 .where(comments.c.id.in_(comment_ids))).all())
    return [rows[i] for i in comment_ids]


def _signed_posts(rostra: Rostra, *posts: tuple[str, str, dict[str, str]]) -> list[int]:
    """Start a server on ``rostra``, make site news's sign-on secret (anew, as the host
    site is told after a move) and post (thread, text, claims) as signed-in readers; the
    comments' ids."""
    live, server = _start_live_server(rostra.url, _backend_name(rostra))
    try:
        live.add_site("news", [ORIGIN])
        secret = live.services.accounts.make_secret("news")
        with live.client() as http:
            answers = [post(http, "news", thread, text, signed(secret, **claims))
                       for thread, text, claims in posts]
    finally:
        server.stop()
        live.services.db.dispose()
    assert [a.status_code for a in answers] == [201] * len(answers), [a.text for a in answers]
    return [a.json()["comment"]["id"] for a in answers]



def _as_version_3(path: Path, tmp_path: Path) -> Path:
    """The export at ``path`` as a version 3 file: no reader_account records, so it names
    accounts it does not hold, and no end line (version 6 added it)."""
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    lines[0]["version"] = 3
    v3 = tmp_path / "v3.jsonl"
    v3.write_text("\n".join(json.dumps(line) for line in lines
                            if line["type"] not in ("reader_account", "end")) + "\n",
                  encoding="utf-8")
    return v3


def _rated_note(source: Rostra) -> tuple[int, int]:
    """A staff note on a signed-in reader's comment, rated helpful by that reader: the
    note's id and the rating's account."""
    [comment_id] = _signed_posts(source, ("/story", "Ana, signed in.",
                                          {"id": "u-ana", "name": "Ana"}))
    [rater] = _accounts_of(source, [comment_id])
    assert rater is not None
    now = datetime.now(UTC)
    with source.db.write() as conn:
        note_id = conn.execute(insert(comment_notes).values(
            comment_id=comment_id, site_id="news", text="Context.", html="<p>Context.</p>",
            sources=["https://source.example/a"], staff_author="desk", status="proposed",
            shown=False, rating_count=1, created_at=now).returning(comment_notes.c.id)
        ).scalar_one()
        conn.execute(insert(note_ratings).values(note_id=note_id, account_id=rater,
                                                 helpful=True, created_at=now))
    return note_id, rater

def test_a_signed_in_reader_is_the_same_account_after_a_restore(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    ana_id, bo_id = _signed_posts(
        source,
        ("/story", "Ana, signed in.",
         {"id": "u-ana", "name": "Ana", "email": "ana@reader.example"}),
        ("/story", "Bo, signed in.", {"id": "u-bo", "name": "Bo"}))
    before = _accounts_of(source, [ana_id, bo_id])

    path = tmp_path / "all.jsonl.gz"
    source.ok("export", path)
    lines = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert lines[0] == {"format": "rostra", "type": "header", "version": 8}
    exported = [line for line in lines if line["type"] == "reader_account"]
    assert [(a["subject"], a["name"], a["email"]) for a in exported] == [
        ("u-ana", "Ana", "ana@reader.example"), ("u-bo", "Bo", None)]
    summary = target.ok("import", "rostra", path).output
    assert re.search(r"reader accounts created\s*│\s*2\s*│", summary), summary
    assert _accounts_of(target, [ana_id, bo_id]) == before

    again_id, cy_id = _signed_posts(
        target, ("/story", "Ana again, on the new server.", {"id": "u-ana", "name": "Ana"}),
        ("/story", "Someone new.", {"id": "u-cy", "name": "Cy"}))
    [ana_account] = _accounts_of(target, [again_id])
    [cy_account] = _accounts_of(target, [cy_id])
    assert ana_account == before[0]
    # A new reader gets an id of its own, past the restored ones.
    assert cy_account is not None and cy_account > max(a for a in before if a is not None)
    with target.db.read() as conn:
        assert conn.execute(select(reader_accounts.c.subject)
                            .order_by(reader_accounts.c.id)).scalars().all() == [
            "u-ana", "u-bo", "u-cy"]


def test_comments_whose_account_is_not_in_the_file_become_anonymous(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    # A version 3 file names accounts it does not hold: the first reader to sign in on the
    # new server would get id 1 and, with it, someone else's comments.
    source, target = backend
    [comment_id] = _signed_posts(source, ("/story", "Ana, signed in.",
                                          {"id": "u-ana", "name": "Ana"}))
    path = tmp_path / "all.jsonl.gz"
    source.ok("export", path)
    target.ok("import", "rostra", _as_version_3(path, tmp_path))
    assert _accounts_of(target, [comment_id]) == [None]

    live, server = _start_live_server(target.url, _backend_name(target))
    try:
        secret = live.services.accounts.make_secret("news")
        with live.client() as http:
            stranger = post(http, "news", "/story", "A stranger signs in first.",
                            signed(secret, id="u-zed", name="Zed"))
            assert stranger.status_code == 201
            shown = http.get("/api/comments", params={"site": "news", "thread": "/story"},
                             headers={"Origin": ORIGIN}).json()["comments"]
    finally:
        server.stop()
        live.services.db.dispose()
    assert _accounts_of(target, [comment_id]) == [None]
    [old_comment] = [c for c in shown if c["id"] == comment_id]
    assert old_comment["author"]["signed_in"] is False


def test_an_account_id_taken_by_another_reader_stops_the_import(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    # Passing over the file's account 1 because the database has an account 1 would give
    # the file's comments of that reader to someone else.
    source, target = backend
    for rostra, subject in ((source, "u-ana"), (target, "u-zed")):
        _signed_posts(rostra, (f"/{subject}", "Signed in.", {"id": subject, "name": subject}))
    path = tmp_path / "all.jsonl"
    source.ok("export", path)
    with target.db.read() as conn:
        before = conn.execute(select(comments.c.id, comments.c.account_id)).all()
    result = target.run("import", "rostra", path)
    assert result.exit_code == 1, result.output
    message = " ".join(result.output.split())
    assert ("reader_account 1 exists here with site_id 'news', subject 'u-zed', the file "
            "has another") in message, message
    with target.db.read() as conn:
        assert conn.execute(select(comments.c.id, comments.c.account_id)).all() == before


def test_note_ratings_by_an_account_not_in_the_file_are_dropped(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    # A rating's account is part of its key: it cannot be made anonymous as a comment
    # is. Kept, it would become the rating of whichever new reader gets that id (who
    # could then never rate the note themselves, and whose viewpoint would carry it).
    source, target = backend
    note_id, rater = _rated_note(source)
    path = tmp_path / "all.jsonl.gz"
    source.ok("export", path)
    exported = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    assert [line["account_id"] for line in exported if line["type"] == "note_rating"] == [rater]
    target.ok("import", "rostra", _as_version_3(path, tmp_path))
    with target.db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(note_ratings)) == 0
        assert conn.scalar(select(comment_notes.c.rating_count)
                           .where(comment_notes.c.id == note_id)) == 0


def test_note_ratings_of_restored_accounts_are_kept(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    note_id, rater = _rated_note(source)
    path = tmp_path / "all.jsonl"
    source.ok("export", path)
    target.ok("import", "rostra", path)
    with target.db.read() as conn:
        assert conn.execute(select(note_ratings.c.note_id, note_ratings.c.account_id,
                                   note_ratings.c.helpful)).all() == [(note_id, rater, True)]
        assert conn.scalar(select(comment_notes.c.rating_count)
                           .where(comment_notes.c.id == note_id)) == 1
