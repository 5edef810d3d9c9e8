"""The queue page and its actions: /admin/queue, /admin/act, /admin/undo, and the
per-comment pages (edit, ban)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.admin.auth import SessionKeys, actor_of, check_csrf
from rostra.admin.context import admin, require, visible_sites, who
from rostra.admin.web import json_ok, one, pages, read_form, redirect, render, safe_next
from rostra.api.schemas import IdPath
from rostra.api.staff_auth import Staff
from rostra.core.errors import Forbidden, InvalidInput, NotFound
from rostra.core.ids import MAX_ID
from rostra.services import thread_closing
from rostra.services.moderation import BanKind
from rostra.services.queue import QueueFilter, QueueState, reason_codes
from rostra.services.workspace import STATE_ACTIONS, PinKind, duration_of

router = APIRouter(prefix="/admin", include_in_schema=False)

# What the notice after an action says ("done" parameter -> sentence).
DONE = {
    "approve": "Approved", "reject": "Rejected", "spam": "Marked as spam",
    "delete": "Deleted", "edit": "Saved the edit of", "featured": "Featured",
    "pinned": "Pinned", "unpin": "Unpinned", "ban": "Banned the author of",
    "shadow_ban": "Shadow-banned the author of", "undo": "Undid the last action:",
}


@router.get("")
@router.get("/")
@pages
async def home(request: Request) -> Response:
    # GET /admin — the queue is the workspace's front page
    await who(request)
    return redirect("/admin/queue")


@router.get("/queue")
@pages
async def queue_page(request: Request) -> Response:
    # GET /admin/queue?site=&state=&thread=&reason=&language=&author=&since=&until=&q=
    staff = await who(request)
    params = {k: v for k, v in request.query_params.items()}
    sites = await run_in_threadpool(visible_sites, request, staff)
    chosen = params.get("site", "")
    scope: tuple[str, ...]
    if chosen:
        require(staff, chosen)  # by URL too: another site's queue is refused, not empty
        scope = (chosen,)
    else:
        scope = tuple(sites)
    error: str | None = None
    try:
        flt = QueueFilter.parse(params, scope)
    except InvalidInput as exc:
        flt, error = QueueFilter(sites=scope), exc.detail
    reader = admin(request).reader
    shown = await run_in_threadpool(reader.page, flt)
    items = shown.items
    total = await run_in_threadpool(reader.count, flt)
    # The pager's links keep the filters, not the place nor the last action's notice.
    base = {k: v for k, v in params.items() if k not in PLACE_AND_NOTICE and v}
    token = getattr(request.state, "session_token", None)
    last = await run_in_threadpool(admin(request).staff.last_action, token) if token else None
    return render(
        request, "queue.html", items=items, flt=flt, params=params, sites=sites,
        states=[s.value for s in QueueState], total=total, error=error, shown=shown,
        page_query=urlencode(base),
        reasons=reason_codes(items), done=_done_text(request, params), can_undo=bool(last),
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    )


PLACE_AND_NOTICE = frozenset({"page", "after", "before", "done", "n", "what", "sig"})


def _done_text(request: Request, params: dict[str, str]) -> str | None:
    """The notice after an action, made from a known code and a number; after an undo,
    what was undone only as the server said it to this session (signed), so that a
    link cannot put words of its own in the workspace's notice."""
    done = params.get("done", "")
    verb = DONE.get(done)
    if verb is None:
        return None
    count = params.get("n", "")
    if done == "undo":
        what = params.get("what", "")
        token = getattr(request.state, "session_token", None)
        if what and token and hmac.compare_digest(
                params.get("sig", ""), _undone_signature(request, token, what)):
            return verb + " " + what[:120]
        return verb.removesuffix(":") + "."
    return f"{verb} {count} comment{'s' if count != '1' else ''}." if count.isdigit() else verb


def _ids(request: Request, form: dict[str, list[str]]) -> list[int]:
    raw = request.query_params.getlist("only") or form.get("id", [])
    try:
        ids = list(dict.fromkeys(int(v) for v in raw if v.strip()))
    except ValueError:
        raise InvalidInput("id: comment ids are numbers") from None
    if any(not 1 <= i <= MAX_ID for i in ids):
        raise InvalidInput("id: comment ids are numbers from 1 to 2^63-1")
    if not ids:
        raise InvalidInput("select at least one comment")
    if len(ids) > 200:
        raise InvalidInput("at most 200 comments at once")
    return ids


def _check_comments(request: Request, staff: Staff, ids: list[int]) -> None:
    """Every comment must be on a site the staff member moderates; unknown ids are 404."""
    reader = admin(request).reader
    for comment_id in ids:
        site = reader.site_of(comment_id)
        if site is None:
            raise NotFound(f"no comment with id {comment_id}")
        if not staff.can(site):
            raise Forbidden(f"you are not moderator of site {site!r}", code="forbidden")


@router.post("/act")
@pages
async def act(request: Request) -> Response:
    # POST /admin/act (form: csrf, action, id..., seen.ID; or ?only=ID) — bulk and single
    staff = await who(request)
    form = await read_form(request)
    check_csrf(request, form)
    action = one(form, "action")
    ids = _ids(request, form)
    await run_in_threadpool(_check_comments, request, staff, ids)
    reason = one(form, "reason")[:2000] or None
    work = admin(request).workspace
    actor = actor_of(staff)
    if action in STATE_ACTIONS:
        # The state each comment had on the moderator's page (seen.ID): one another
        # moderator decided since is left as it is, and the page says who did.
        seen = {i: one(form, f"seen.{i}") for i in ids if one(form, f"seen.{i}")}
        undo = await run_in_threadpool(lambda: work.decide(
            ids, STATE_ACTIONS[action], actor=actor, reason=reason, seen=seen))
    elif action in ("featured", "pinned", "unpin"):
        if len(ids) != 1:
            raise InvalidInput("feature or pin one comment at a time")
        kind = PinKind(action) if action != "unpin" else None
        undo = await run_in_threadpool(lambda: work.pin(ids[0], kind, actor=actor))
    else:
        raise InvalidInput("action: approve, reject, spam, delete, featured, pinned or unpin")
    await _remember(request, undo)
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"done": action, "ids": ids, "undo": True})
    return redirect(safe_next(one(form, "next")), done=action, n=len(ids))


async def _remember(request: Request, undo: dict[str, Any]) -> None:
    token = getattr(request.state, "session_token", None)
    if token:  # bearer-token callers have no session to keep an undo in
        await run_in_threadpool(admin(request).staff.remember_action, token, undo)


@router.post("/undo")
@pages
async def undo(request: Request) -> Response:
    # POST /admin/undo — reverse this session's last queue action
    staff = await who(request)
    form = await read_form(request)
    check_csrf(request, form)
    token = getattr(request.state, "session_token", None)
    parts = admin(request)
    last = await run_in_threadpool(parts.staff.last_action, token) if token else None
    if not last or not token:
        raise InvalidInput("there is nothing to undo")
    # The undone action's comments or ban must still be within this person's sites.
    ids = [int(i["id"]) for i in last.get("items", [])] or (
        [int(last["id"])] if "id" in last else [])
    await run_in_threadpool(_check_comments, request, staff, ids)
    if "site" in last:
        require(staff, str(last["site"]))
    what = await run_in_threadpool(lambda: parts.workspace.undo(last, actor=actor_of(staff)))
    await run_in_threadpool(parts.staff.remember_action, token, None)
    sig = _undone_signature(request, token, what)
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"undone": what, "sig": sig})
    return redirect(safe_next(one(form, "next")), done="undo", what=what, sig=sig)


def _undone_signature(request: Request, token: str, what: str) -> str:
    """Signs what an undo did for the session that did it: the queue page says only
    that, and only to that session."""
    keys: SessionKeys = request.app.state.admin_keys
    message = b"undone:" + token.encode() + b"\0" + what.encode()
    return hmac.new(keys.secret, message, hashlib.sha256).hexdigest()


@router.get("/comments/{comment_id}")
@pages
async def comment_page(request: Request, comment_id: IdPath) -> Response:
    # GET /admin/comments/{id} — one comment: context, history, revisions, edit and ban forms
    staff = await who(request)
    reader = admin(request).reader
    item = await run_in_threadpool(reader.item, comment_id)
    if item is None:
        raise NotFound(f"no comment with id {comment_id}")
    require(staff, item.comment["site"])
    revisions = await run_in_threadpool(reader.revisions, comment_id)
    thread = await run_in_threadpool(_thread_of, request, item.comment["thread_id"])
    return render(request, "comment.html", item=item, revisions=revisions, thread=thread)


def _thread_of(request: Request, thread_id: int) -> Any:
    return thread_closing.thread_row(admin(request).services.db, thread_id)


@router.post("/threads/{thread_id}/close")
@pages
async def close_thread(request: Request, thread_id: IdPath) -> Response:
    # POST /admin/threads/{id}/close (form: csrf, closed=1|0, reason, next) — no new
    # comments on the article (its comments stay), or open it again
    staff = await who(request)
    form = await read_form(request)
    check_csrf(request, form)
    thread = await run_in_threadpool(_thread_of, request, thread_id)
    if thread is None:
        raise NotFound(f"no thread with id {thread_id}")
    require(staff, thread.site_id)
    closed = one(form, "closed", "1") == "1"
    await run_in_threadpool(lambda: thread_closing.set_closed(
        admin(request).services.db, thread_id, closed, actor=actor_of(staff),
        reason=one(form, "reason")[:2000] or None))
    return redirect(safe_next(one(form, "next"), "/admin/queue"),
                    done="close" if closed else "reopen", n=1)


@router.post("/comments/{comment_id}/edit")
@pages
async def edit_comment(request: Request, comment_id: IdPath) -> Response:
    # POST /admin/comments/{id}/edit (form: csrf, text, reason) — the old text is kept
    staff = await who(request)
    form = await read_form(request)
    check_csrf(request, form)
    await run_in_threadpool(_check_comments, request, staff, [comment_id])
    work = admin(request).workspace
    undo_record = await run_in_threadpool(
        lambda: work.edit(comment_id, one(form, "text"), actor=actor_of(staff),
                          reason=one(form, "reason")[:2000] or None))
    await _remember(request, undo_record)
    return redirect(safe_next(one(form, "next"), f"/admin/comments/{comment_id}"),
                    done="edit", n=1)


@router.post("/comments/{comment_id}/ban")
@pages
async def ban_author(request: Request, comment_id: IdPath) -> Response:
    # POST /admin/comments/{id}/ban (form: csrf, kind, duration, reason, shadow, wide)
    staff = await who(request)
    form = await read_form(request)
    check_csrf(request, form)
    await run_in_threadpool(_check_comments, request, staff, [comment_id])
    try:
        kind = BanKind(one(form, "kind", "email"))
    except ValueError:
        raise InvalidInput("kind: account, email, voter, ip or range") from None
    shadow = one(form, "shadow") in ("1", "on", "true")
    work = admin(request).workspace
    undo_record = await run_in_threadpool(lambda: work.ban(
        comment_id, kind, actor=actor_of(staff), shadow=shadow,
        duration_seconds=duration_of(one(form, "duration")),
        reason=one(form, "reason")[:2000] or None, wide=one(form, "wide") in ("1", "on")))
    await _remember(request, undo_record)
    if request.headers.get("accept", "").startswith("application/json"):
        return json_ok({"done": "ban", "ban": undo_record["ban"]})
    return redirect(safe_next(one(form, "next"), f"/admin/comments/{comment_id}"),
                    done="shadow_ban" if shadow else "ban", n=1)
