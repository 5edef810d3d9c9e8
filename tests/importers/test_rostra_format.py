"""Rostra's JSON Lines: export -> import into an empty database -> export is identical."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from import_builders import WpComment, WpPost, write_wxr
from import_helpers import Rostra, counts, subscriptions_of, thread_by_key
from sqlalchemy import insert, select, update
from test_wordpress import (  # the richest fixtures: states, anchors, questions, subscriptions
    site_file,
    subscription_dump,
)
from tests.conftest import ORIGIN, Reader, _start_live_server, all_ids

from rostra.moderation.identity import email_key
from rostra.services.subscriptions import mark_bounced
from rostra.store.account_tables import reader_accounts
from rostra.store.dsa_tables import dsa_notices, dsa_statements
from rostra.store.moderation_tables import author_stats
from rostra.store.notes_tables import comment_notes, note_ratings
from rostra.store.notify_tables import notify_addresses, notify_subscriptions
from rostra.store.tables import votes


def _fill(rostra: Rostra, tmp_path: Path) -> None:
    rostra.ok("import", "wordpress", site_file(tmp_path), "--site", "news",
              "--origin", "https://news.example",
              "--wpdiscuz-sql", subscription_dump(tmp_path / "subs.sql"))
    rostra.ok("import", "disqus", write_disqus_small(tmp_path), "--site", "other")
    thread = thread_by_key(rostra.db, "news", "/2024/03/rents")
    from import_helpers import comments_of

    first = comments_of(rostra.db, thread.id)[0]
    from datetime import UTC, datetime

    salt = rostra.db.secret("ip_salt")
    with rostra.db.write() as conn:
        conn.execute(insert(votes), [
            {"comment_id": first.id, "voter": "v:abc", "value": 1, "ip_hash": "h",
             "created_at": datetime(2024, 3, 2, 1, 2, 3, 456789, tzinfo=UTC)}])
        # Every state an address can be in: bounced, awaiting confirmation, confirmed.
        mark_bounced(conn, "ana@example.com", "550 no such user",
                     datetime(2024, 3, 5, 0, 0, tzinfo=UTC))
        conn.execute(update(notify_addresses).where(notify_addresses.c.email == "bo@example.com")
                     .values(confirmation_sent_at=datetime(2024, 3, 2, 8, 0, 1, tzinfo=UTC),
                             language="de"))
        conn.execute(update(notify_subscriptions).values(base_url="https://news.example/c/"))
        # Context notes: one staff published, one readers proposed and rated.
        made = datetime(2024, 3, 3, 9, 0, 0, 123456, tzinfo=UTC)
        conn.execute(insert(reader_accounts), [
            {"id": n, "site_id": "news", "subject": f"sso-{n}", "name": f"Reader {n}",
             "email": f"reader{n}@example.org" if n != 43 else None, "website": None,
             "email_verified": n == 41, "sso_staff": n == 42, "created_at": made,
             "seen_at": made} for n in (41, 42, 43)])
        conn.execute(insert(comment_notes), [
            {"id": 7, "comment_id": first.id, "site_id": "news", "text": "The *vote* was held.",
             "html": "<p>The <em>vote</em> was held.</p>",
             "sources": ["https://council.example/minutes"], "staff_author": "editor",
             "account_id": None, "status": "published", "shown": True, "helpfulness": None,
             "rating_count": 0, "created_at": made, "decided_by": "editor",
             "decided_at": made},
            {"id": 8, "comment_id": first.id, "site_id": "news", "text": "Reader context",
             "html": "<p>Reader context</p>", "sources": [], "staff_author": None,
             "account_id": 41, "status": "proposed", "shown": False, "helpfulness": 0.125,
             "rating_count": 2, "created_at": made, "decided_by": None, "decided_at": None}])
        conn.execute(insert(note_ratings), [
            {"note_id": 8, "account_id": 42, "helpful": True, "created_at": made},
            {"note_id": 8, "account_id": 43, "helpful": False, "created_at": made}])
        # A DSA notice that removed the comment, its statement of reasons and the appeal.
        at = datetime(2024, 3, 6, 9, 30, 0, 123456, tzinfo=UTC)
        conn.execute(insert(dsa_notices).values(
            id=7, site_id="news", comment_id=first.id, ground="defamation",
            ground_label="Defamation", explanation="Names a neighbour as a thief.",
            notifier_name="Bo", notifier_email="bo@example.com", good_faith=True,
            reporter="v:xyz", ip_hash="h2", created_at=at, deadline_at=at, status="decided",
            outcome="illegal", decided_by="editor", decided_at=at, decision_reason="Yes"))
        conn.execute(insert(dsa_statements).values(
            id=3, site_id="news", comment_id=first.id, state="rejected", restriction="removal",
            source="notice", notice_id=7, ground_kind="illegal", ground="Defamation",
            facts="A notice reported it.", automated_detection=False,
            automated_decision=False, decided_by="editor", created_at=at, lifted_at=None,
            appeal_text="It is true.", appealed_at=at, appeal_outcome="upheld",
            appeal_decided_by="chief", appeal_decided_at=at, appeal_reason="Not shown true"))
        # Authors' reputations: by account, by browser, by an address the database knows.
        conn.execute(insert(author_stats), [
            {"site_id": "news", "author": author, "approved": 12, "rejected": 1, "spam": 0,
             "notices": n, "updated_at": at}
            for n, author in enumerate(("a:41", "v:abc", email_key("reader42@example.org",
                                                                   salt)))])


def write_disqus_small(tmp_path: Path) -> Path:
    from import_builders import DisqusPost, DisqusThread, write_disqus

    return write_disqus(tmp_path / "d.xml", [DisqusThread("1", "https://other.example/x/")],
                        [DisqusPost("1", "1", "<p>Hi «there»</p>")])


def test_it_round_trips_identically(backend: tuple[Rostra, Rostra], tmp_path: Path) -> None:
    source, target = backend
    _fill(source, tmp_path)
    first, second = tmp_path / "first.jsonl.gz", tmp_path / "second.jsonl.gz"
    source.ok("export", first)
    target.ok("import", "rostra", first)
    target.ok("export", second)
    assert gzip.decompress(first.read_bytes()) == gzip.decompress(second.read_bytes())
    assert first.read_bytes() == second.read_bytes()
    text = gzip.decompress(first.read_bytes()).decode()
    types = [line.split('"type":"')[1].split('"')[0] for line in text.splitlines()]
    assert {"header", "site", "thread", "alias", "question", "comment", "vote", "address",
            "subscription", "subscription_comment", "note", "note_rating", "dsa_notice",
            "dsa_statement", "reader_account", "author_stat"} <= set(types)
    assert counts(target.db)["comment_notes"] == 2 and counts(target.db)["note_ratings"] == 2
    assert counts(target.db)["reader_accounts"] == 3
    assert subscriptions_of(target.db, "news") == subscriptions_of(source.db, "news")
    # Importing it again creates nothing twice.
    before = counts(target.db)
    target.ok("import", "rostra", first)
    after = counts(target.db)
    assert {k: v for k, v in after.items() if k != "import_runs"} == {
        k: v for k, v in before.items() if k != "import_runs"}


def test_a_file_before_version_5_keeps_subscriptions_confirmed_with_their_address(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    # Consent was per address then: a subscription of a confirmed address was on. One
    # of version 5 keeps its own state, even where its address is confirmed.
    source, target = backend
    _fill(source, tmp_path)
    with source.db.write() as conn:
        confirmed = select(notify_addresses.c.id).where(notify_addresses.c.confirmed_at
                                                        .is_not(None)).scalar_subquery()
        conn.execute(update(notify_subscriptions).where(
            notify_subscriptions.c.address_id.in_(confirmed)).values(confirmed_at=None))
    path = tmp_path / "all.jsonl"
    source.ok("export", path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["version"] >= 5
    subs = [line for line in lines if line["type"] == "subscription"]
    assert subs and all(s["confirmed_at"] is None for s in subs)
    for line in subs:
        del line["confirmed_at"], line["voter_id"], line["account_id"]
    lines[0]["version"] = 4
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    target.ok("import", "rostra", path)
    with target.db.read() as conn:
        rows = conn.execute(
            select(notify_subscriptions.c.confirmed_at, notify_addresses.c.confirmed_at
                   .label("address_confirmed_at"))
            .join(notify_addresses, notify_addresses.c.id == notify_subscriptions.c.address_id)
        ).all()
    assert {r.address_confirmed_at is not None for r in rows} == {True, False}
    assert all(r.confirmed_at == r.address_confirmed_at for r in rows)


def test_it_exports_one_site(rostra: Rostra, second_rostra: Rostra, tmp_path: Path) -> None:
    _fill(rostra, tmp_path)
    path = tmp_path / "news.jsonl"
    rostra.ok("export", "--site", "other", path)
    second_rostra.ok("import", "rostra", path)
    assert counts(second_rostra.db)["sites"] == 1
    assert counts(second_rostra.db)["comments"] == 1


def test_it_continues_ids_after_a_restore(backend: tuple[Rostra, Rostra],
                                           tmp_path: Path) -> None:
    # Rows restored with their ids: PostgreSQL's sequences must move past them, or the
    # next comment, vote or thread made by the server collides with a restored one.
    rostra, second_rostra = backend
    rostra.ok("import", "wordpress", write_wxr(tmp_path / "w.xml", [
        WpPost(1, "A", "https://news.example/a/",
               comments=[WpComment(1, "x"), WpComment(2, "y", parent=1)])]),
        "--site", "news")
    path = tmp_path / "all.jsonl"
    rostra.ok("export", path)
    second_rostra.ok("import", "rostra", path)
    second_rostra.ok("import", "wordpress", write_wxr(tmp_path / "w2.xml", [
        WpPost(2, "B", "https://news.example/b/", comments=[WpComment(3, "z")])]),
        "--site", "news")
    assert counts(second_rostra.db)["comments"] == 3
    backend_name = "postgres" if second_rostra.url.startswith("postgresql") else "sqlite"
    live, server = _start_live_server(second_rostra.url, backend_name)
    try:
        live.add_site("news", [ORIGIN])
        with live.client() as http:
            reader = Reader("Ana", http, "news")
            restored = reader.page("https://news.example/a/")["comments"]
            first = reader.post("https://news.example/a/", "After the restore")
            assert first.status_code == 201, first.text
            new_id = first.json()["comment"]["id"]
            assert new_id > max(all_ids(restored))
            reply = reader.post("https://news.example/a/", "A reply", parent_id=restored[0]["id"])
            assert reply.status_code == 201, reply.text
            assert Reader("Ben", http, "news").vote(restored[0]["id"], 1).status_code == 200
            fresh = reader.post("https://news.example/new-page/", "A new thread")
            assert fresh.status_code == 201, fresh.text
    finally:
        server.stop()
        live.services.db.dispose()


def test_it_undoes_subscriptions_when_a_restore_meets_a_bad_line(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    source, target = backend
    _fill(source, tmp_path)
    path = tmp_path / "all.jsonl"
    source.ok("export", path)
    path.write_text(path.read_text() + '{"type":"subscription","id":"x"}\n')
    before = counts(target.db)
    result = target.run("import", "rostra", path, "--batch-size", "3")
    assert result.exit_code == 1 and "database is as it was" in " ".join(result.output.split())
    assert counts(target.db) == before


def test_it_exports_only_the_subscribers_of_one_site(
    rostra: Rostra, second_rostra: Rostra, tmp_path: Path
) -> None:
    _fill(rostra, tmp_path)
    path = tmp_path / "other.jsonl"
    rostra.ok("export", "--site", "other", path)
    second_rostra.ok("import", "rostra", path)
    assert counts(second_rostra.db)["notify_addresses"] == 0
    path = tmp_path / "news.jsonl"
    rostra.ok("export", "--site", "news", path)
    second_rostra.ok("import", "rostra", path)
    assert subscriptions_of(second_rostra.db, "news") == subscriptions_of(rostra.db, "news")


def test_it_keeps_what_was_imported_from_where_so_a_newer_export_adds_only_new(
    backend: tuple[Rostra, Rostra], tmp_path: Path
) -> None:
    """Move a site by export and restore, then import a newer WordPress export into the
    restored database: only what is new in it is added (docs/import-export.md)."""
    from import_builders import WpComment, WpPost, write_wxr
    from import_helpers import comments_of

    source, target = backend
    older = write_wxr(tmp_path / "older.xml", [
        WpPost(5, "S", "https://news.example/s/", comments=[
            WpComment(1, "first"), WpComment(2, "a reply", parent=1)])])
    source.ok("import", "wordpress", older, "--site", "news")
    exported = tmp_path / "news.jsonl"
    source.ok("export", exported)
    target.ok("import", "rostra", exported)
    newer = write_wxr(tmp_path / "newer.xml", [
        WpPost(5, "S", "https://news.example/s/", comments=[
            WpComment(1, "first"), WpComment(2, "a reply", parent=1),
            WpComment(3, "new since the move", parent=2)]),
        WpPost(6, "T", "https://news.example/t/", comments=[WpComment(4, "a new page")])])
    result = target.ok("import", "wordpress", newer, "--site", "news")
    thread = thread_by_key(target.db, "news", "/s")
    rows = comments_of(target.db, thread.id)
    assert [r.text for r in rows] == ["first", "a reply", "new since the move"], result.output
    assert rows[2].parent_id == rows[1].id and thread.comment_count == 3
    assert [r.text for r in comments_of(target.db, thread_by_key(target.db, "news", "/t").id)
            ] == ["a new page"]
    # The restored database exports the same bookkeeping again (a second move keeps it).
    again = tmp_path / "again.jsonl"
    target.ok("export", again)
    def books(path: Path) -> set[tuple[str, str]]:
        import json

        return {(r["kind"], r["source_id"]) for r in map(json.loads, path.read_text().splitlines())
                if r["type"] == "import_item"}

    assert books(again) - books(exported) >= {("comment", "3"), ("comment", "4"),
                                              ("thread", "6")}
    assert books(exported) <= books(again) and ("comment", "2") in books(exported)
