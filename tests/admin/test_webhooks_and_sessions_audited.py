"""A webhook added or removed, and an account's other sessions ended, are in the audit
log. None was recorded: a webhook receives every comment event of its site, so an owner
could add one, collect the site's comments and remove it without a trace. The entries
name the URL and events, never the webhook's secret; a webhook whose entry cannot be
written is not added."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from rostra.services.audit_log import Audited
from rostra.services.webhooks import NewWebhook
from rostra.store.moderation_tables import audit_log
from rostra.store.notify_tables import notify_webhooks
from tests.admin.conftest import Newsroom, StaffMember, staff_service
from tests.conftest import first_try_fails

SECRET = "a webhook secret " + secrets.token_hex(8)


def _entries(room: Newsroom, action: str) -> list[Any]:
    with room.server.services.db.read() as conn:
        return list(conn.execute(select(audit_log).where(audit_log.c.action == action)
                                 .order_by(audit_log.c.id)).all())


def _actor(room: Newsroom, member: StaffMember) -> str:
    return f"{member.name} (#{staff_service(room.server).by_name(member.name).id})"


def test_a_webhook_added_and_removed_is_audited(newsroom: Newsroom) -> None:
    room, owner = newsroom, newsroom.owner
    url = f"https://hooks.example.org/{secrets.token_hex(4)}"
    csrf = {"X-CSRF-Token": owner.csrf}
    added = owner.http.post(f"/api/admin/sites/{room.site_a}/webhooks", headers=csrf,
                            json={"url": url, "events": ["comment.created"],
                                  "secret": SECRET})
    assert added.status_code == 201, added.text
    hook = added.json()["webhook"]
    removed = owner.http.delete(f"/api/admin/sites/{room.site_a}/webhooks/{hook['id']}",
                                headers=csrf)
    assert removed.status_code == 204, removed.text

    seen = {"url": url, "events": ["comment.created"]}
    [made] = [e for e in _entries(room, "webhook_added") if e.target == f"webhook:{hook['id']}"]
    assert (made.site_id, made.actor, made.before, made.after) == (
        room.site_a, _actor(room, owner), None, seen)
    [gone] = [e for e in _entries(room, "webhook_removed")
              if e.target == f"webhook:{hook['id']}"]
    assert (gone.site_id, gone.actor, gone.before, gone.after) == (
        room.site_a, _actor(room, owner), seen, None)
    # The site's moderators and owners read it in the workspace's audit log.
    listed = owner.http.get("/admin/audit.json", params={"target": f"webhook:{hook['id']}"})
    assert listed.status_code == 200, listed.text
    assert {e["action"] for e in listed.json()["entries"]} == {"webhook_added",
                                                               "webhook_removed"}
    for entry in (made, gone):
        text = json.dumps([entry.before, entry.after])
        assert SECRET not in text and hook.get("secret", "whsec_") not in text


def test_ending_the_other_sessions_is_audited(newsroom: Newsroom) -> None:
    room, owner = newsroom, newsroom.owner
    account = staff_service(room.server).by_name(owner.name)
    with room.server.client() as http:
        elsewhere = StaffMember(owner.name, http)
        assert elsewhere.login().status_code == 303
        ended = owner.post("/admin/account", {"op": "end_others"})
        assert ended.status_code == 303, ended.text[:300]
        assert http.get("/admin/queue").status_code != 200  # that session is over
    [entry] = [e for e in _entries(room, "sessions_ended") if e.target == f"staff:{account.id}"]
    assert (entry.site_id, entry.actor, entry.after) == (
        None, _actor(room, owner), {"name": owner.name, "ended": 1})
    # None left to end: nothing changed, nothing recorded.
    assert owner.post("/admin/account", {"op": "end_others"}).status_code == 303
    assert len([e for e in _entries(room, "sessions_ended")
                if e.target == f"staff:{account.id}"]) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("server", ["postgres"], indirect=True)
def test_a_webhook_whose_entry_fails_is_not_added(newsroom: Newsroom) -> None:
    # (Through the service: the staff API answers an unforeseen error with a 500 that
    # uvicorn may follow by dropping the connection, which the client can see first.)
    room = newsroom
    webhooks = room.server.app.app.state.notify.webhooks
    url = f"https://hooks.example.org/{secrets.token_hex(4)}"

    def hooks() -> int:
        with room.server.services.db.read() as conn:
            return int(conn.scalar(select(func.count()).select_from(notify_webhooks)
                                   .where(notify_webhooks.c.url == url)) or 0)

    def add() -> object:
        return webhooks.add(room.site_a, NewWebhook(url), audited=Audited("a test"))

    with first_try_fails(room.server, "INSERT", "NEW.action = 'webhook_added'",
                         "RAISE EXCEPTION 'the audit entry is refused'",
                         table="audit_log") as tried:
        with pytest.raises(DBAPIError, match="the audit entry is refused"):
            add()
        assert tried() == 1
    assert hooks() == 0
    add()
    assert hooks() == 1


def test_ending_one_other_session_is_audited(newsroom: Newsroom) -> None:
    import re

    room, owner = newsroom, newsroom.owner
    account = staff_service(room.server).by_name(owner.name)
    with room.server.client() as http:
        elsewhere = StaffMember(owner.name, http)
        assert elsewhere.login().status_code == 303
        page = owner.http.get("/admin/account")
        assert page.status_code == 200
        handles = re.findall(r'name="session" value="([0-9a-f]{16})"', page.text)
        assert handles, "the account page lists the other session"
        ended = owner.post("/admin/account", {"op": "end_session", "session": handles[0]})
        assert ended.status_code == 303, ended.text[:300]
        assert http.get("/admin/queue").status_code != 200  # that session is over
    [entry] = [e for e in _entries(room, "session_ended") if e.target == f"staff:{account.id}"]
    assert (entry.site_id, entry.actor, entry.after) == (
        None, _actor(room, owner), {"name": owner.name, "session": handles[0]})
