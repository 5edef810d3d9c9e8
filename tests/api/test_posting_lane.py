"""The posting path: the Front's plain-ASGI handler, the posting lane and its group
commits, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import event, select, update

from rostra.core.errors import Forbidden, InvalidInput, NotFound
from rostra.core.models import CommentState
from rostra.core.thread_keys import thread_key as thread_key_of
from rostra.services.comments import CommentEvent, NewComment, Posted, RequestContext
from rostra.services.moderation import ModerationService, StaffAction
from rostra.services.personal_data import PersonalData
from rostra.store.db import Database
from rostra.store.moderation_tables import audit_log
from rostra.store.tables import comments, threads
from tests.conftest import (
    CONNECTION_LOST,
    ORIGIN,
    LiveServer,
    Reader,
    drop_database_connections,
    first_try_fails,
    free_port,
    like_a_batch_replying_to,
    running_server,
    without_waiting_for_a_reply,
)

WORDS = (
    "council", "budget", "school", "bridge", "road", "mayor", "vote", "tax", "river",
    "flood", "police", "hospital", "train", "station", "election", "minister", "report", "photo",
    "street", "market", "price", "rent", "wage", "teacher", "doctor", "nurse", "farmer",
    "tram", "bike", "park", "library", "museum", "theatre", "football", "season", "coach",
    "league", "referee", "weather", "storm", "summer", "winter", "harvest", "festival",
)


def _text(i: int) -> str:
    # Different words each time: near-identical texts from a crowd are (rightly) a flood.
    return " ".join(random.Random(i).sample(WORDS, 10))


def _batch_count(http: httpx.Client) -> float:
    text = http.get("/metrics").text
    match = re.search(r"^rostra_posting_batch_size_count (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_a_crowd_posting_at_once_gets_every_comment_stored_once(
    server: LiveServer, site: str, http: httpx.Client
) -> None:
    batches_before = _batch_count(http)

    def post(i: int) -> dict[str, Any]:
        with server.client() as client:
            response = client.post("/api/comments", headers={
                "Origin": ORIGIN, "X-Forwarded-For": f"203.0.113.{i + 1}",
            }, json={"site": site, "thread": "/crowd/", "name": f"Reader {i}", "text": _text(i)})
            assert response.status_code == 201, response.text
            data: dict[str, Any] = response.json()
            return data

    with ThreadPoolExecutor(16) as pool:
        posted = list(pool.map(post, range(48)))

    ids = [p["comment"]["id"] for p in posted]
    assert len(set(ids)) == 48
    assert [p["comment"]["html"] for p in posted] == [f"<p>{_text(i)}</p>" for i in range(48)]
    assert {p["comment"]["state"] for p in posted} == {"approved"}
    page = http.get("/api/comments", params={"site": site, "thread": "/crowd/",
                                             "limit": "all"}).json()
    assert page["thread"]["total"] == 48 and page["thread"]["top_level"] == 48
    assert sorted(c["id"] for c in page["comments"]) == sorted(ids)
    # Each author's token edits that author's comment and no other.
    first, second = posted[0], posted[1]
    edit = http.patch(f"/api/comments/{first['comment']['id']}", json={"text": "edited"},
                      headers={"Origin": ORIGIN, "X-Rostra-Edit-Token": first["edit_token"]})
    assert edit.status_code == 200, edit.text
    wrong = http.patch(f"/api/comments/{second['comment']['id']}", json={"text": "no"},
                       headers={"Origin": ORIGIN, "X-Rostra-Edit-Token": first["edit_token"]})
    assert wrong.status_code == 401
    # Fewer transactions than comments is the point; at least one happened.
    assert 1 <= _batch_count(http) - batches_before <= 48


def _item(site: str, thread: str, text: str, **extra: Any) -> tuple[NewComment, RequestContext]:
    return (NewComment(thread=thread, text=text, site=site, name="Ana", **extra),
            RequestContext(origin=ORIGIN, ip="203.0.113.9"))


def _stored_texts(server: LiveServer, thread_key: str, site: str | None = None) -> list[str]:
    query = (select(comments.c.text).join(threads, threads.c.id == comments.c.thread_id)
             .where(threads.c.key == thread_key_of(thread_key)).order_by(comments.c.id))
    if site is not None:
        query = query.where(threads.c.site_id == site)
    with server.services.db.read() as conn:
        rows = conn.execute(query).all()
    return [row.text for row in rows]


def test_a_refused_post_in_a_batch_leaves_the_others_stored(server: LiveServer,
                                                            site: str) -> None:
    svc = server.services.comments
    results = svc.post_many([
        _item(site, "/batch/", "first, fine"),
        _item(site, "/batch/", "a reply to nothing", parent_id=10**9),
        _item(site, "/batch/", "   "),
        _item(site, "/batch/", "second, fine"),
    ])
    assert [type(r) for r in results] == [Posted, NotFound, InvalidInput, Posted]
    assert _stored_texts(server, "/batch/", site) == ["first, fine", "second, fine"]
    first, second = results[0], results[3]
    assert isinstance(first, Posted) and isinstance(second, Posted)
    assert first.comment["id"] != second.comment["id"]


@contextmanager
def comment_inserts(db: Database) -> Iterator[Callable[[], int]]:
    """How many INSERT statements into comments the database has run inside the block:
    on PostgreSQL counted by the server (a statement-level trigger; the posting batch's
    INSERT goes to psycopg directly, unseen by SQLAlchemy's events), on SQLite as
    SQLAlchemy sends them."""
    if db.is_sqlite:
        sent: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO COMMENTS"):
                sent.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            yield lambda: len(sent)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return
    name = "test_inserts_" + secrets.token_hex(4)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SEQUENCE {name}")
        conn.exec_driver_sql(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM nextval('{name}'); RETURN NULL; END $$")
        conn.exec_driver_sql(f"CREATE TRIGGER {name} AFTER INSERT ON comments "
                             f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")

    def counted() -> int:
        with db.engine.connect() as conn:
            last, called = conn.exec_driver_sql(
                f"SELECT last_value, is_called FROM {name}").one()
        return int(last) if called else 0

    try:
        yield counted
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TRIGGER {name} ON comments")
            conn.exec_driver_sql(f"DROP FUNCTION {name}()")
            conn.exec_driver_sql(f"DROP SEQUENCE {name}")


def test_a_batch_is_stored_with_one_insert_and_each_post_gets_its_own_row(
    server: LiveServer, site: str
) -> None:
    svc = server.services.comments
    parent = svc.post(*_item(site, "/rows/", "the parent"))
    svc.post(*_item(site, "/shut/", "before it closed"))
    with server.services.db.write() as conn:
        conn.execute(update(threads).where(threads.c.key == thread_key_of("/shut/"),
                                           threads.c.site_id == site).values(closed=True))
    # Refused, as the batch's posts to it will be. (On PostgreSQL this post's INSERT,
    # for the thread as the last post found it, finds it closed and the transaction
    # runs again reading it: a second INSERT, counted here and not below.)
    with pytest.raises(Forbidden):
        svc.post(*_item(site, "/shut/", "after it closed"))
    items = [_item(site, ["/rows/", "/rows/other/", "/shut/"][i % 3], _text(100 + i),
                   parent_id=parent.comment["id"] if i % 6 == 0 else None)
             for i in range(30)]
    heard: list[CommentEvent] = []
    svc.listeners.append(heard.append)
    try:
        with comment_inserts(server.services.db) as inserts:
            results = svc.post_many(items)
            assert inserts() == 1
    finally:
        svc.listeners.remove(heard.append)
    # Each answer, edit token and event names the row holding that post's text.
    with server.services.db.read() as conn:
        stored = {row.id: row for row in conn.execute(
            select(comments.c.id, comments.c.text, comments.c.parent_id, threads.c.key)
            .join(threads, threads.c.id == comments.c.thread_id))}
    by_id = {e.comment_id: e for e in heard}
    for (new, _), result in zip(items, results, strict=True):
        if new.thread == "/shut/":
            assert isinstance(result, Forbidden)
            continue
        assert isinstance(result, Posted)
        row = stored[result.comment["id"]]
        assert (row.text, row.parent_id, row.key) == (new.text, new.parent_id,
                                                      thread_key_of(new.thread))
        assert new.text in result.comment["html"]
        assert svc.tokens.check_edit_token(result.edit_token, row.id, 60) == "ok"
        assert by_id[row.id].thread_key == row.key
        assert by_id[row.id].comment is not None
        assert new.text in by_id[row.id].comment["html"]
    assert len(by_id) == 20


@pytest.mark.postgres
def test_a_reply_does_not_wait_for_another_reply_to_its_parent_to_commit(
    pg_live_server: LiveServer,
) -> None:
    server = pg_live_server
    site = server.add_site("k" + secrets.token_hex(5), [ORIGIN])
    svc = server.services.comments
    parent = svc.post(*_item(site, "/keyshare/", "the parent")).comment["id"]
    answer = without_waiting_for_a_reply(server, parent, lambda: svc.post(
        *_item(site, "/keyshare/", "a reply", parent_id=parent)))
    assert isinstance(answer, Posted)


@pytest.mark.postgres
def test_a_batch_chosen_as_a_deadlocks_victim_is_stored_on_a_second_try(
    pg_live_server: LiveServer,
) -> None:
    server = pg_live_server
    site = server.add_site("d" + secrets.token_hex(5), [ORIGIN])
    # PostgreSQL breaks a deadlock by failing one of the transactions (SQLSTATE 40P01),
    # which then loses nothing and can run again.
    with first_try_fails(
            server, "INSERT", "NEW.text = 'chosen as the victim'"):
        svc = server.services.comments
        alone = svc.post_many([_item(site, "/victim/", "chosen as the victim")])
        assert isinstance(alone[0], Posted), alone
        assert _stored_texts(server, "/victim/", site) == ["chosen as the victim"]


@pytest.mark.postgres
def test_a_moderators_decision_and_a_batch_replying_nearby_do_not_deadlock(
    pg_live_server: LiveServer,
) -> None:
    # A batch locks the comments whose reply counts it changes in the order of their
    # ids, then their threads. Rejecting a reply changes its parent's count: the decision
    # must take the parent, the reply and the thread in that order too, or it and a
    # batch replying to both wait for each other until PostgreSQL fails one.
    server = pg_live_server
    site = server.add_site("m" + secrets.token_hex(5), [ORIGIN])
    svc = server.services.comments
    parent = svc.post(*_item(site, "/decide/", "the parent")).comment["id"]
    reply = svc.post(*_item(site, "/decide/", "a reply", parent_id=parent)).comment["id"]
    decided = like_a_batch_replying_to(server, parent, reply, lambda: svc.set_state(
        reply, CommentState.REJECTED, actor="moderator"))
    assert decided["id"] == reply
    with server.services.db.read() as conn:
        states = dict(conn.execute(select(comments.c.id, comments.c.state)
                                   .where(comments.c.id.in_([parent, reply]))).all())
        count = conn.execute(select(comments.c.reply_count)
                             .where(comments.c.id == parent)).scalar_one()
    assert states == {parent: "approved", reply: "rejected"}
    assert count == 0


@pytest.mark.postgres
def test_a_moderators_decision_chosen_as_a_deadlocks_victim_is_made_on_a_second_try(
    pg_live_server: LiveServer,
) -> None:
    server = pg_live_server
    site = server.add_site("v" + secrets.token_hex(5), [ORIGIN])
    comment = server.services.comments.post(
        *_item(site, "/victim-decision/", "rejected at the second try")).comment["id"]
    # The first transaction to reject this comment fails as a deadlock's victim does.
    with first_try_fails(
            server, "UPDATE", f"NEW.id = {comment} AND NEW.state = 'rejected'"):
        moderation = ModerationService(server.services.comments)
        moderation.decide(comment, StaffAction.REJECT, actor="moderator")
        with server.services.db.read() as conn:
            state = conn.execute(select(comments.c.state)
                                 .where(comments.c.id == comment)).scalar_one()
            audited = conn.execute(select(audit_log.c.action).where(
                audit_log.c.target == f"comment:{comment}")).scalars().all()
        assert state == "rejected"
        assert audited == ["reject"]  # the rolled-back try left nothing behind


@pytest.mark.postgres
def test_a_persons_erasure_chosen_as_a_deadlocks_victim_is_done_on_a_second_try(
    pg_live_server: LiveServer,
) -> None:
    server = pg_live_server
    site = server.add_site("e" + secrets.token_hex(5), [ORIGIN])
    address = f"erase-{secrets.token_hex(4)}@example.org"
    svc = server.services.comments
    first = svc.post(*_item(site, "/erased/", "mine", email=address)).comment["id"]
    svc.post(*_item(site, "/erased/", "also mine", parent_id=first, email=address))
    with first_try_fails(server, "UPDATE",
                         f"NEW.state = 'deleted' AND OLD.author_email = '{address}'"):
        done = PersonalData(svc).forget(address, actor="cli")
    assert done["comments"] == 2
    with server.services.db.read() as conn:
        left = conn.execute(select(comments.c.state, comments.c.text).where(
            comments.c.thread_id.in_(select(threads.c.id).where(threads.c.site_id == site))
        )).all()
        audited = conn.execute(select(audit_log.c.action).where(
            audit_log.c.action == "forget_person", audit_log.c.created_at >= select(comments.c.created_at)
            .where(comments.c.id == first).scalar_subquery())).scalars().all()
    assert sorted(left) == [("deleted", ""), ("deleted", "")]
    assert audited == ["forget_person"]  # the rolled-back try left nothing behind


@pytest.mark.postgres
def test_a_batch_whose_connection_is_lost_on_a_statement_is_stored_once(
    pg_live_server: LiveServer,
) -> None:
    # Lost before COMMIT (PostgreSQL restarting in the middle of it), the transaction
    # committed nothing: the batch runs again on a fresh connection.
    server = pg_live_server
    site = server.add_site("l" + secrets.token_hex(5), [ORIGIN])
    with first_try_fails(server, "INSERT", "NEW.text = 'lost on the insert'",
                         CONNECTION_LOST):
        stored = server.services.comments.post_many([
            _item(site, "/lost/", "lost on the insert")])
    assert isinstance(stored[0], Posted), stored
    assert _stored_texts(server, "/lost/", site) == ["lost on the insert"]


@pytest.mark.postgres
def test_a_post_right_after_postgresql_dropped_its_connections_is_stored_once() -> None:
    # Every connection closed at once, most of them used within the last second.
    with running_server("postgres") as server:
        site = server.add_site("r" + secrets.token_hex(5), [ORIGIN])
        svc = server.services.comments
        svc.post(*_item(site, "/restart/", "before the restart"))
        drop_database_connections(server)
        after = svc.post_many([_item(site, "/restart/", "right after it")])
        assert isinstance(after[0], Posted), after
        assert _stored_texts(server, "/restart/", site) == ["before the restart",
                                                            "right after it"]


def test_batches_replying_to_the_same_comments_at_once_all_commit(server: LiveServer,
                                                                  site: str) -> None:
    # As two workers' posting lanes do: batches replying to the same parents, in
    # opposite orders. None may fail for waiting on another.
    svc = server.services.comments
    parents = [svc.post(*_item(site, "/busy/", f"parent {i}")).comment["id"]
               for i in range(2)]
    rounds = 25

    def lane(order: list[int]) -> list[Any]:
        results: list[Any] = []
        for r in range(rounds):
            results += svc.post_many([
                _item(site, "/busy/", _text(1000 * order[0] + 10 * r + i), parent_id=parent)
                for i, parent in enumerate(order * 2)])
        return results

    with ThreadPoolExecutor(2) as pool:
        results = [r for batch in pool.map(lane, [parents, parents[::-1]]) for r in batch]
    failures = [r for r in results if not isinstance(r, Posted)]
    assert failures == []
    assert {r.comment["state"] for r in results} == {"approved"}
    with server.services.db.read() as conn:
        counts = dict(conn.execute(select(comments.c.id, comments.c.reply_count)
                                   .where(comments.c.id.in_(parents))).all())
    assert counts == {parent: 2 * 2 * rounds for parent in parents}


def test_a_batch_of_signed_in_posts_asks_once_who_is_staff(server: LiveServer,
                                                          site: str) -> None:
    from rostra.store.account_tables import reader_accounts

    accounts = server.services.accounts
    readers = [accounts.sign_in(site, f"email:r{i}@example.org", f"Reader {i}",
                                f"r{i}@example.org", email_verified=True) for i in range(4)]
    with server.services.db.write() as conn:  # the site's sign-on marks one as staff
        conn.execute(update(reader_accounts).where(reader_accounts.c.id == readers[1].id)
                     .values(sso_staff=True))
    items = [(NewComment(thread="/signed/", text=_text(300 + i), site=site, name="Ana"),
              RequestContext(origin=ORIGIN, ip="203.0.113.9", account_id=readers[i % 4].id))
             for i in range(8)]
    asked: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "sso_staff" in statement:
            asked.append(statement)

    event.listen(server.services.db.engine, "before_cursor_execute", count)
    try:
        results = server.services.comments.post_many(items)
    finally:
        event.remove(server.services.db.engine, "before_cursor_execute", count)
    assert len(asked) == 1
    badges = [r.comment.get("staff", False) for r in results]
    assert badges == [i % 4 == 1 for i in range(8)]


def test_a_thread_closed_between_checks_and_commit_refuses_only_its_posts(
    server: LiveServer, site: str
) -> None:
    svc = server.services.comments
    svc.post(*_item(site, "/closing/", "before it closed"))
    with server.services.db.write() as conn:
        conn.execute(update(threads).where(threads.c.key == thread_key_of("/closing/"),
                                           threads.c.site_id == site).values(closed=True))
    results = svc.post_many([
        _item(site, "/closing/", "too late"),
        _item(site, "/open/", "elsewhere, fine"),
    ])
    assert isinstance(results[0], Forbidden) and results[0].extra["code"] == "thread_closed"
    assert isinstance(results[1], Posted)
    assert _stored_texts(server, "/closing/", site) == ["before it closed"]
    assert _stored_texts(server, "/open/", site) == ["elsewhere, fine"]


def test_a_database_failure_in_a_batch_costs_only_its_own_post(server: LiveServer,
                                                               site: str) -> None:
    svc = server.services.comments

    def explode(conn: Any, event: CommentEvent) -> None:
        # A hook that fails inside the transaction, as a refused write would.
        if event.site_id == site and event.thread_key == thread_key_of("/explode/"):
            raise RuntimeError("the database refused this one")

    svc.tx_hooks.append(explode)
    try:
        results = svc.post_many([
            _item(site, "/survive/", "one"),
            _item(site, "/explode/", "boom"),
            _item(site, "/survive/", "two"),
        ])
    finally:
        svc.tx_hooks.remove(explode)
    assert isinstance(results[0], Posted) and isinstance(results[2], Posted)
    assert isinstance(results[1], RuntimeError)
    assert _stored_texts(server, "/survive/", site) == ["one", "two"]
    assert _stored_texts(server, "/explode/", site) == []
    with server.services.db.read() as conn:
        total = conn.scalar(select(threads.c.comment_count).where(
            threads.c.key == thread_key_of("/survive/"), threads.c.site_id == site))
    assert total == 2


def test_it_refuses_a_body_that_is_not_json(ana: Reader, server: LiveServer) -> None:
    # A cross-site form can send text/plain without a preflight: such a body is refused.
    response = ana.http.post(
        "/api/comments", headers={**ana.headers(), "Content-Type": "text/plain"},
        content=b'{"site": "%s", "thread": "/form/", "text": "from a form"}' % ana.site.encode(),
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported_media_type"
    assert _stored_texts(server, "/form/", ana.site) == []


def test_it_answers_validation_errors_with_the_field(ana: Reader) -> None:
    response = ana.http.post("/api/comments", headers=ana.headers(),
                             json={"site": ana.site, "thread": "/v/", "text": 5, "colour": 1})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert {e["field"] for e in problem["errors"]} == {"text", "colour"}
    response = ana.http.post("/api/comments", headers=ana.headers(), json=["not", "an object"])
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def test_it_sends_cors_headers_and_a_request_id_with_a_new_comment(ana: Reader) -> None:
    response = ana.http.post("/api/comments", headers={**ana.headers(), "X-Request-ID": "abc123"},
                             json={"site": ana.site, "thread": "/cors/", "name": "Ana", "text": "hi"})
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["x-request-id"] == "abc123"
    cookie = response.headers["set-cookie"]
    comment_id = response.json()["comment"]["id"]
    assert f"Path=/api/comments/{comment_id}" in cookie and "Max-Age=" in cookie
    # Loopback counts as a secure context, so the cookie can go with cross-site requests.
    assert "SameSite=none" in cookie and "Secure" in cookie


def test_the_documented_route_posts_the_same_way_without_the_front(
    server: LiveServer, site: str
) -> None:
    # The OpenAPI route is the contract; served without the Front it does the same work.
    spec = httpx.get(f"{server.url}/api/openapi.json").json()
    operation = spec["paths"]["/api/comments"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/CommentIn")
    assert "201" in operation["responses"]
    port = free_port()
    inner = uvicorn.Server(uvicorn.Config(server.app.app, host="127.0.0.1", port=port,
                                          log_config=None, lifespan="off"))
    thread = threading.Thread(target=inner.run, daemon=True)
    thread.start()
    try:
        while not inner.started:
            assert thread.is_alive()
            threading.Event().wait(0.01)
        response = httpx.post(f"http://127.0.0.1:{port}/api/comments",
                              headers={"Origin": ORIGIN},
                              json={"site": site, "thread": "/inner/", "name": "Ana",
                                    "text": "*direct*"})
    finally:
        inner.should_exit = True
        thread.join(timeout=10)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["comment"]["html"] == "<p><em>direct</em></p>"
    assert "HttpOnly" in response.headers["set-cookie"]
    assert _stored_texts(server, "/inner/", site) == ["*direct*"]
