"""A person's data on request: `rostra privacy export` and `rostra privacy forget`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from rostra.cli import main
from rostra.config import Settings
from rostra.services.comments import NewComment, RequestContext
from rostra.services.container import Services
from rostra.services.notes import NoteDraft, NoteService, NoteStatus
from rostra.services.reading import PageRequest
from rostra.store import migrate
from rostra.store.db import Database
from rostra.store.notes_tables import comment_notes, note_ratings
from rostra.store.notify_tables import notify_addresses, notify_subscriptions
from rostra.store.tables import comments
from tests.api.test_sso import signed


def _seed(url: str) -> tuple[Services, int, int, int, int]:
    db = Database(url)
    migrate.upgrade(db)
    services = Services.build(Settings(database_url=url, secret_key="p", classifier="off"), db)
    services.sites.create("gazette", "Gazette", ["https://news.example"])
    ctx = RequestContext(ip="203.0.113.9")
    mine = services.comments.post(NewComment(
        thread="/a/", site="gazette", name="Ana", email="Ana@Example.org",
        text="My own words"), ctx).comment["id"]
    reply = services.comments.post(NewComment(
        thread="/a/", site="gazette", name="Ben", email="ben@example.org",
        text="A reply to Ana", parent_id=mine), RequestContext()).comment["id"]
    other = services.comments.post(NewComment(
        thread="/b/", site="gazette", name="Ana", email="ana@example.org",
        text="More of mine"), ctx).comment["id"]
    # Signed in by the site while the account had an older address; the site has
    # told Rostra the new one since.
    secret = services.accounts.make_secret("gazette")
    expires = int(time.time()) + 600
    signed_in = services.comments.post(NewComment(
        thread="/c/", site="gazette", text="Posted as a member"), RequestContext(
        sso=signed(secret, id="m1", name="Ana M.", email="ana@old.example",
                   exp=expires))).comment["id"]
    account = services.accounts.identify("gazette", signed(
        secret, id="m1", name="Ana M.", email="ana@example.org", exp=expires))
    # Ana, signed in, proposed a note under Ben's reply (the editors published it) and
    # rated one by the editors.
    notes = NoteService(services.comments)
    member = RequestContext(origin="https://news.example", sso=signed(
        secret, id="m1", name="Ana M.", email="ana@example.org", exp=expires))
    hers = notes.propose(reply, NoteDraft("Context Ana proposed", []), member)
    notes.decide(hers["id"], NoteStatus.PUBLISHED, actor="editor")
    editors = notes.add_by_staff(mine, NoteDraft("Context by the editors", []), actor="editor")
    notes.decide(editors["id"], NoteStatus.PROPOSED, actor="editor")
    notes.rate(editors["id"], False, member)
    assert account is not None
    now = datetime.now(UTC)
    with db.write() as conn:
        address = conn.execute(notify_addresses.insert().values(
            email="ana@example.org", language="en", created_at=now, confirmed_at=now,
        ).returning(notify_addresses.c.id)).scalar_one()
        conn.execute(notify_subscriptions.insert().values(
            address_id=address, site_id="gazette", thread_key="/a", kind="thread",
            language="en", created_at=now))
    return services, mine, reply, other, signed_in


def test_it_exports_and_then_forgets_a_person(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    services, mine, reply, other, signed_in = _seed(url)
    runner = CliRunner()

    exported = runner.invoke(main, ["--database-url", url, "privacy", "export", "ANA@example.org"])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    assert [c["id"] for c in data["comments"]] == [mine, other]
    assert {c["text"] for c in data["comments"]} == {"My own words", "More of mine"}
    assert [s["thread"] for s in data["subscriptions"]] == ["/a"]
    assert [(a["site"], a["id"], a["name"]) for a in data["accounts"]] == [
        ("gazette", "m1", "Ana M.")]
    assert "ben@example.org" not in exported.output and "A reply" not in exported.output
    assert [(n["comment_id"], n["text"], n["status"]) for n in data["context_notes"]] == [
        (reply, "Context Ana proposed", "published")]
    assert [r["helpful"] for r in data["note_ratings"]] == [False]

    forgot = runner.invoke(main, ["--database-url", url, "privacy", "forget",
                                  "ana@example.org", "--yes"])
    assert forgot.exit_code == 0, forgot.output
    assert ("erased 3 comment(s), 1 subscription(s) and 1 sign-on account(s) "
            in forgot.output)

    again = json.loads(runner.invoke(main, ["--database-url", url, "privacy", "export",
                                            "ana@example.org"]).output)
    assert again["comments"] == [] and again["subscriptions"] == [] and again["accounts"] == []
    with services.db.read() as conn:
        left = [(n.staff_author, n.text) for n in conn.execute(select(comment_notes))]
        ratings = list(conn.execute(select(note_ratings)))
    assert left == [("editor", "Context by the editors")], "other people's notes stay"
    assert ratings == []
    with services.db.read() as conn:
        rows = {r.id: r for r in conn.execute(select(comments))}
    for comment_id in (mine, other, signed_in):
        row = rows[comment_id]
        assert (row.state, row.text, row.author_name, row.author_email, row.ip_hash) == (
            "deleted", "", None, None, None)
    assert rows[reply].text == "A reply to Ana", "other people's replies stay"
    page = services.reading.page(PageRequest(thread="/a/", site="gazette"))
    [tomb] = page.body["comments"]
    assert tomb["state"] == "deleted" and tomb["replies"][0]["id"] == reply
    services.db.dispose()


def test_notices_filed_by_the_person_go_anonymous_and_their_mail_goes(
        tmp_path: Path) -> None:
    # A DSA notice is a record the site must keep, but the notifier's name, address and
    # reader key are the person's: exported with the rest, erased with the rest, and a
    # receipt still queued for the address is not sent after the erasure.
    from rostra.notify import outbox
    from rostra.notify.model import Channel, MessageKind
    from rostra.store.dsa_tables import dsa_notices
    from rostra.store.notify_tables import notify_outbox

    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    services, mine, reply, other, signed_in = _seed(url)
    account = services.accounts.identify("gazette", signed(
        services.accounts.make_secret("gazette"), id="m1", name="Ana M.",
        email="ana@example.org", exp=int(time.time()) + 600))
    assert account is not None
    now = datetime.now(UTC)
    notice = {"site_id": "gazette", "comment_id": reply, "ground": "defamation",
              "ground_label": "Defamation", "explanation": "It says false things about me.",
              "good_faith": True, "created_at": now, "deadline_at": now, "status": "open"}
    with services.db.write() as conn:
        by_address = conn.execute(dsa_notices.insert().values(
            **notice, notifier_name="Ana", notifier_email="Ana@Example.org",
            reporter="v:browser", ip_hash="h1").returning(dsa_notices.c.id)).scalar_one()
        by_account = conn.execute(dsa_notices.insert().values(
            **notice, reporter=f"a:{account.id}", ip_hash="h2")
            .returning(dsa_notices.c.id)).scalar_one()
        someone_else = conn.execute(dsa_notices.insert().values(
            **notice, notifier_name="Ben", notifier_email="ben@example.org",
            reporter="v:other", ip_hash="h3").returning(dsa_notices.c.id)).scalar_one()
        for what, recipient in (("receipt", "Ana@Example.org"), ("decision", "ana@example.org"),
                                ("receipt", "ben@example.org")):
            outbox.enqueue(conn, channel=Channel.EMAIL, kind=MessageKind.DSA,
                           batch_key=f"dsa:{what}:{recipient}", recipient=recipient, now=now,
                           due_at=now, site_id="gazette", comment_id=reply,
                           payload={"what": what, "notice_id": by_address})
        # The receipt went out already: its row still names the address.
        conn.execute(notify_outbox.update().where(
            notify_outbox.c.batch_key == "dsa:receipt:Ana@Example.org").values(sent_at=now))
    runner = CliRunner()
    data = json.loads(runner.invoke(main, ["--database-url", url, "privacy", "export",
                                           "ana@example.org"]).output)
    assert [(n["id"], n["ground"], n["explanation"]) for n in data["dsa_notices"]] == [
        (by_address, "defamation", "It says false things about me."),
        (by_account, "defamation", "It says false things about me.")]
    assert "ben@example.org" not in json.dumps(data)

    forgot = runner.invoke(main, ["--database-url", url, "privacy", "forget",
                                  "ana@example.org", "--yes"])
    assert forgot.exit_code == 0, forgot.output
    assert "2 notice(s) made anonymous" in forgot.output
    with services.db.read() as conn:
        kept = {r.id: (r.notifier_name, r.notifier_email, r.reporter, r.ip_hash,
                       r.explanation) for r in conn.execute(select(dsa_notices))}
        recipients = conn.execute(select(notify_outbox.c.recipient)).scalars().all()
    assert kept == {
        by_address: (None, None, None, None, "It says false things about me."),
        by_account: (None, None, None, None, "It says false things about me."),
        someone_else: ("Ben", "ben@example.org", "v:other", "h3",
                       "It says false things about me."),
    }
    assert recipients == ["ben@example.org"]
    services.db.dispose()
