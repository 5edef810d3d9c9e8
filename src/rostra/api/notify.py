"""Notification routes: subscribing (write tier), the pages behind email links,
Atom and RSS feeds (read tier) and webhook management (owner tier)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, quote

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from rostra.api.schemas import IdPath, Strict
from rostra.api.staff_auth import Role, Staff, current_staff, require_role
from rostra.core.errors import NotFound
from rostra.core.ids import MAX_ID, parse_id
from rostra.core.thread_keys import ThreadKeyError, thread_key
from rostra.notify import feeds
from rostra.notify.templates import catalog, choose_language, render_page
from rostra.services.audit_log import Audited
from rostra.services.notify_runtime import NotifyRuntime
from rostra.services.subscriptions import Requester, SubscribeRequest, SubscriptionView
from rostra.services.webhooks import NewWebhook

subscriptions = APIRouter(prefix="/api", tags=["notifications"])
pages = APIRouter(prefix="/notify", include_in_schema=False)
feed_routes = APIRouter(prefix="/feeds", tags=["feeds"])
staff = APIRouter(prefix="/api/admin", tags=["webhooks"])

# The pages behind email links hold buttons that change a reader's subscriptions: no
# other site may frame them (clickjacking), and they run no script at all.
PAGE_HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


def runtime(request: Request) -> NotifyRuntime:
    value: NotifyRuntime = request.app.state.notify
    return value


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _base(request: Request) -> str:
    """Links in feeds: public_url, else where this reader reached us (a feed is read by
    whoever asked for it; emails never use a request's host, see notify.worker)."""
    settings = runtime(request).settings
    return settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")


# -- write tier --------------------------------------------------------------


class SubscriptionIn(Strict):
    model_config = ConfigDict(extra="forbid")

    site: str | None = Field(None, max_length=64, description="Site id; default: by Origin")
    thread: str = Field(..., min_length=1, max_length=1000,
                        description="Thread id, path or URL of the page")
    email: str = Field(..., max_length=320, description="Where to send; never shown")
    kind: Literal["thread", "replies"] = Field(
        "thread", description="thread: new follow-up comments; replies: replies to my comments"
    )
    language: str | None = Field(None, max_length=35,
                                 description="Language of the emails (default: Accept-Language)")
    comment_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="replies: also follow this comment of mine (send its edit "
        "token as X-Rostra-Edit-Token)",
    )


class SubscriptionAccepted(BaseModel):
    status: Literal["accepted", "subscribed"] = Field(
        ..., description="subscribed: active now (a signed-in reader subscribed the address "
        "their account verified); accepted: anything else, whether or not a confirmation "
        "email was sent")
    voter: str | None = Field(
        None, description="A voter id for a browser that sent none (X-Rostra-Voter), as a "
        "post's or a vote's answer gives one: keep it and send it with the browser's later "
        "posts, so that a 'replies' subscription finds them")


@subscriptions.post("/subscriptions", status_code=202, response_model=SubscriptionAccepted,
                    summary="Notify me of new comments or of replies")
async def subscribe(request: Request, body: SubscriptionIn) -> Response:
    # POST /api/subscriptions — the "Notify of" choice; the answer never tells a stranger
    # whether the address is known or confirmed (that would leak who reads what): only a
    # signed-in reader subscribing the address their account verified hears "subscribed".
    rt = runtime(request)
    headers = request.headers
    result = await run_in_threadpool(
        rt.subscriptions.subscribe,
        SubscribeRequest(thread=body.thread, email=body.email, kind=body.kind, site=body.site,
                         language=body.language, comment_id=body.comment_id),
        origin=headers.get("origin"),
        edit_token=headers.get("x-rostra-edit-token"),
        accept_language=headers.get("accept-language"),
        requester=Requester(voter_token=headers.get("x-rostra-voter"),
                            session=headers.get("x-rostra-session"),
                            sso=headers.get("x-rostra-sso")),
    )
    rt.wake()
    answer: dict[str, str] = {"status": "subscribed" if result.by_owner else "accepted"}
    if result.voter_token:
        answer["voter"] = result.voter_token
    return _json(answer, 202)


# -- pages behind email links ------------------------------------------------


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, max_num_fields=20).items()}


def _page(name: str, language: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(render_page(name, language, **context), status_code=status,
                        headers=PAGE_HEADERS)


def _fallback_language(request: Request) -> str:
    return choose_language(None, request.headers.get("accept-language"))


@pages.get("/confirm")
def confirm_page(request: Request, token: str = "") -> HTMLResponse:
    # GET /notify/confirm — shows a button: link scanners that fetch every URL in an
    # email must not confirm on the reader's behalf.
    # The page names each subscription the link confirms, and no other.
    rt = runtime(request)
    claim = rt.tokens.check_confirm(token)
    address = rt.subscriptions.address_of(claim)
    if address is None or claim is None:
        return _page("confirm", _fallback_language(request), 400, invalid=True)
    subs, confirmed = rt.subscriptions.to_confirm(claim)
    if not subs:  # all ended since
        return _page("confirm", address.language, 400, invalid=True)
    # A bounced address is asked to confirm again, confirmed subscriptions included:
    # that ends the bounce, so the page shows its button.
    return _page("confirm", address.language, invalid=False,
                 confirmed=confirmed and address.bounced_at is None,
                 email=address.email, subscriptions=_listed(address.language, subs),
                 token=token, action="/notify/confirm")


@pages.post("/confirm")
async def confirm(request: Request) -> HTMLResponse:
    # POST /notify/confirm — double opt-in done
    rt = runtime(request)
    token = (await _form(request)).get("token", "")
    claim = rt.tokens.check_confirm(token)
    address = await run_in_threadpool(rt.subscriptions.confirm, claim)
    if address is None or claim is None:
        return _page("confirm", _fallback_language(request), 400, invalid=True)
    rt.wake()  # a confirmation that waited for the hourly cap may leave now
    subs, _confirmed = await run_in_threadpool(rt.subscriptions.to_confirm, claim)
    return _page("confirm", address.language, invalid=False, confirmed=True,
                 email=address.email, subscriptions=_listed(address.language, subs),
                 token="", action="")


def _listed(language: str, subs: list[SubscriptionView]) -> list[dict[str, Any]]:
    t = catalog(language)
    return [
        {"id": s.id, "title": s.title, "url": s.url, "site_name": s.site_name,
         "kind_label": t[f"kind_{s.kind.value}"]}
        for s in subs
    ]


def _manage(request: Request, token: str, message: str | None = None) -> HTMLResponse:
    rt = runtime(request)
    address = rt.subscriptions.address_of(rt.tokens.check_address(token))
    if address is None:
        return _page("manage", _fallback_language(request), 400, invalid=True)
    subs = _listed(address.language, rt.subscriptions.subscriptions_of(address.id))
    return _page("manage", address.language, invalid=False, email=address.email,
                 subscriptions=subs, token=token, action="/notify/manage", message=message)


@pages.get("/manage")
def manage_page(request: Request, token: str = "") -> HTMLResponse:
    # GET /notify/manage — every subscription of the address, each with a way to end it
    return _manage(request, token)


@pages.post("/manage")
async def manage(request: Request) -> HTMLResponse:
    # POST /notify/manage — end=<subscription id> or end=all
    rt = runtime(request)
    form = await _form(request)
    token = form.get("token", "")
    claim = rt.tokens.check_address(token)
    address = await run_in_threadpool(rt.subscriptions.address_of, claim)
    message = None
    if address is not None:
        end = form.get("end", "")
        one = parse_id(end)
        ids = None if end == "all" else [one] if one is not None else []
        if ids != []:
            await run_in_threadpool(rt.subscriptions.end, address.id, ids)
            message = catalog(address.language)["page_ended"]
    return await run_in_threadpool(_manage, request, token, message)


@pages.post("/unsubscribe")
async def one_click_unsubscribe(request: Request, token: str = "") -> Response:
    # POST /notify/unsubscribe — RFC 8058 one-click: ends what the email was about (for
    # a confirmation email, what it asked about, and it says "not me" to its site).
    rt = runtime(request)
    claim = rt.tokens.check_address(token)
    address = await run_in_threadpool(rt.subscriptions.address_of, claim)
    if address is None or claim is None:
        return Response("This link is not valid or has expired.\n", status_code=400,
                        media_type="text/plain; charset=utf-8", headers=PAGE_HEADERS)
    ids = list(claim.subscription_ids) or None
    if claim.not_me and ids:
        # A confirmation email's: its reader never asked, and the site's form must not
        # ask them again on a stranger's word.
        await run_in_threadpool(rt.subscriptions.not_me, address.id, ids)
    else:
        await run_in_threadpool(rt.subscriptions.end, address.id, ids)
    return Response(catalog(address.language)["page_ended"] + "\n",
                    media_type="text/plain; charset=utf-8", headers=PAGE_HEADERS)


def _not_me_page(request: Request, token: str, *, said: bool) -> HTMLResponse:
    """The page behind a confirmation email's visible "not me" link (the one-click
    unsubscribe's token): a button, which ``said`` has pressed."""
    rt = runtime(request)
    claim = rt.tokens.check_address(token)
    address = rt.subscriptions.address_of(claim)
    # Only a confirmation email's token says "not me": a digest's ends subscriptions,
    # on the manage page.
    if address is None or claim is None or not claim.not_me or not claim.subscription_ids:
        return _page("not_me", _fallback_language(request), 400, invalid=True)
    subs = rt.subscriptions.named_by(claim)
    if said and subs:
        rt.subscriptions.not_me(address.id, [s.id for s in subs])
    site_names = ", ".join(dict.fromkeys(s.site_name for s in subs))
    return _page("not_me", address.language, invalid=False, done=said, email=address.email,
                 subscriptions=_listed(address.language, subs), site_names=site_names,
                 token=token, action="/notify/not-me")


@pages.get("/not-me")
def not_me_page(request: Request, token: str = "") -> HTMLResponse:
    # GET /notify/not-me — what "not me" does, and a button: mail scanners fetch every
    # link in an email, so opening it changes nothing.
    return _not_me_page(request, token, said=False)


@pages.post("/not-me")
async def not_me(request: Request) -> HTMLResponse:
    # POST /notify/not-me — the button: the same "not me" as the one-click unsubscribe
    token = (await _form(request)).get("token", "")
    return await run_in_threadpool(_not_me_page, request, token, said=True)


@pages.get("/unsubscribe")
def unsubscribe_page(token: str = "") -> Response:
    # GET /notify/unsubscribe — a mail client that opens the header link gets the page
    # where the reader decides; a GET never unsubscribes.
    return RedirectResponse(f"/notify/manage?token={quote(token)}", status_code=303)


# -- read tier: feeds --------------------------------------------------------


def _feed_response(body: bytes, kind: feeds.FeedKind) -> Response:
    return Response(body, media_type=feeds.CONTENT_TYPES[kind],
                    headers={"Cache-Control": "public, max-age=60"})


def _site_feed(request: Request, site_id: str, kind: feeds.FeedKind) -> Response:
    svc = request.app.state.services
    site = svc.sites.get(site_id)
    with svc.db.read() as conn:
        rows = feeds.recent_comments(conn, site.id)
        notes = feeds.notes_of(conn, [r.id for r in rows])
    base = _base(request)
    return _feed_response(feeds.build_feed(
        kind=kind, feed_id=f"urn:rostra:{site.id}:comments", title=f"{site.name}: comments",
        self_url=f"{base}/feeds/{quote(site.id)}.{kind.value}",
        page_url=site.origins[0] if site.origins else base, rows=rows, site_id=site.id,
        updated_fallback=datetime.now(UTC).replace(microsecond=0), notes=notes,
    ), kind)


def _thread_feed(request: Request, site_id: str, thread: str, kind: feeds.FeedKind) -> Response:
    svc = request.app.state.services
    site = svc.sites.get(site_id)
    try:
        key = thread_key(thread)
    except ThreadKeyError:
        raise NotFound("no such thread", code="thread_not_found") from None
    with svc.db.read() as conn:
        row, rows = feeds.thread_comments(conn, site.id, key)
        notes = feeds.notes_of(conn, [r.id for r in rows])
    if row is None:
        raise NotFound("no such thread", code="thread_not_found")
    base = _base(request)
    return _feed_response(feeds.build_feed(
        kind=kind, feed_id=f"urn:rostra:{site.id}:thread:{row.id}",
        title=f"{row.title or row.url or row.key} ({site.name})",
        self_url=f"{base}/feeds/{quote(site.id)}/thread.{kind.value}"
                 f"?thread={quote(thread, safe='')}",
        page_url=row.url or (site.origins[0] if site.origins else base), rows=rows,
        site_id=site.id, updated_fallback=row.created_at, notes=notes,
    ), kind)


ThreadParam = Annotated[str, Query(max_length=1000, description="Thread id, path or URL")]


@feed_routes.get("/{site_id}.atom", summary="Newest approved comments of a site (Atom)",
                 response_class=Response)
def site_atom(request: Request, site_id: str) -> Response:
    # GET /feeds/{site}.atom
    return _site_feed(request, site_id, feeds.FeedKind.ATOM)


@feed_routes.get("/{site_id}.rss", summary="Newest approved comments of a site (RSS 2.0)",
                 response_class=Response)
def site_rss(request: Request, site_id: str) -> Response:
    # GET /feeds/{site}.rss
    return _site_feed(request, site_id, feeds.FeedKind.RSS)


@feed_routes.get("/{site_id}/thread.atom", summary="Newest approved comments of a thread (Atom)",
                 response_class=Response)
def thread_atom(request: Request, site_id: str, thread: ThreadParam) -> Response:
    # GET /feeds/{site}/thread.atom?thread=…
    return _thread_feed(request, site_id, thread, feeds.FeedKind.ATOM)


@feed_routes.get("/{site_id}/thread.rss",
                 summary="Newest approved comments of a thread (RSS 2.0)", response_class=Response)
def thread_rss(request: Request, site_id: str, thread: ThreadParam) -> Response:
    # GET /feeds/{site}/thread.rss?thread=…
    return _thread_feed(request, site_id, thread, feeds.FeedKind.RSS)


# -- owner tier: webhooks ----------------------------------------------------


EventName = Literal["comment.created", "comment.approved", "comment.deleted"]


def _all_events() -> list[EventName]:
    return ["comment.created", "comment.approved", "comment.deleted"]


class WebhookIn(Strict):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., max_length=2000, description="http(s) URL that receives the POSTs")
    events: list[EventName] = Field(default_factory=_all_events)
    secret: str | None = Field(
        None, min_length=16, max_length=200,
        description="A Standard Webhooks secret (whsec_ and base64 of 24 to 64 bytes), or any "
                    "16 to 200 characters (the key is their UTF-8 bytes; answered in the "
                    "whsec_ form); default: generated. Shown once, in the answer")


StaffDep = Annotated[Staff, Depends(current_staff)]


def _audited(who: Staff) -> Audited:
    """The staff member as the audit log names them."""
    return Audited(who.name if who.id is None else f"{who.name} (#{who.id})")


@staff.get("/sites/{site_id}/webhooks", summary="List a site's webhooks")
def list_webhooks(request: Request, site_id: str, who: StaffDep) -> Response:
    # GET /api/admin/sites/{site}/webhooks — secrets are not shown again
    require_role(who, site_id, Role.OWNER)
    return _json({"webhooks": runtime(request).webhooks.of_site(site_id)})


@staff.post("/sites/{site_id}/webhooks", status_code=201, summary="Add a webhook")
def add_webhook(request: Request, site_id: str, body: WebhookIn, who: StaffDep) -> Response:
    # POST /api/admin/sites/{site}/webhooks — the answer carries the secret, once
    require_role(who, site_id, Role.OWNER)
    hook = runtime(request).webhooks.add(
        site_id, NewWebhook(url=body.url, events=tuple(body.events), secret=body.secret),
        audited=_audited(who))
    return _json({"webhook": hook}, 201)


@staff.delete("/sites/{site_id}/webhooks/{webhook_id}", status_code=204,
              summary="Remove a webhook")
def remove_webhook(request: Request, site_id: str, webhook_id: IdPath, who: StaffDep) -> Response:
    # DELETE /api/admin/sites/{site}/webhooks/{id}
    require_role(who, site_id, Role.OWNER)
    runtime(request).webhooks.remove(site_id, webhook_id, audited=_audited(who))
    return Response(status_code=204)
