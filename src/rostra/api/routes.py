"""Public API routes, grouped by tier: read, write (anyone), author (edit token)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rostra.api.cache import (
    Entry,
    PageChange,
    ReadCache,
    Tag,
    VoteCounts,
    accepts_gzip,
    page_entry,
    thread_tags,
)
from rostra.api.front import cache_key, stale_ms
from rostra.api.posting import (
    Lane,
    cookie_is_secure,
    edit_cookie,
    forwarded_ip,
    new_comment,
    over_https,
    posted_body,
)
from rostra.api.schemas import (
    CommentEdit,
    CommentIn,
    CountsIn,
    CountsOut,
    IdPath,
    OriginOut,
    PageOut,
    PostedOut,
    PreviewIn,
    PreviewOut,
    Problem,
    SingleOut,
    VoteIn,
    VoteOut,
    VotesOut,
)
from rostra.core.errors import InvalidInput, NotFound
from rostra.core.models import SortOrder
from rostra.services.comments import RequestContext
from rostra.services.container import Services
from rostra.services.reading import PageRequest

PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}}
    for status in (400, 401, 403, 404, 409, 413, 422, 429)
}

read = APIRouter(prefix="/api", tags=["read"], responses=PROBLEMS)
write = APIRouter(prefix="/api", tags=["write"], responses=PROBLEMS)
author = APIRouter(prefix="/api", tags=["author"], responses=PROBLEMS)


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json",
                    headers=headers)


def client_ip(request: Request, trusted: list[str]) -> str | None:
    """The reader's address; X-Forwarded-For is believed only from a trusted proxy."""
    return forwarded_ip(request.client.host if request.client else None,
                        request.headers.get("x-forwarded-for"), trusted)


def served_over_https(request: Request) -> bool:
    """Whether the browser reached us over https (rostra.api.posting.over_https): what
    makes a cookie Secure behind the TLS proxy, where the connection itself is http."""
    settings = request.app.state.settings
    return over_https(request.url.scheme, request.client.host if request.client else None,
                      request.headers.get("x-forwarded-proto"), settings.trusted_proxies,
                      settings.public_url)


def context(request: Request, comment_id: int | None = None, **extras: Any) -> RequestContext:
    svc = services(request)
    edit_token = request.headers.get("x-rostra-edit-token")
    if not edit_token and comment_id is not None:
        edit_token = request.cookies.get(f"rostra_edit_{comment_id}")
        origin = request.headers.get("origin")
        # A cookie alone is ambient authority: a write must name an Origin (CSRF), and
        # any request that names one (a page's fetch, a GET too: the cookie is sent to
        # every site's pages, SameSite=None) counts it only from a page of the
        # comment's own site: another site's page must not learn whose comment it is.
        if edit_token and (
            (request.method not in ("GET", "HEAD") and not origin)
            or (origin and not _comments_site_allows(svc, comment_id, origin))
        ):
            edit_token = None
    return RequestContext(
        origin=request.headers.get("origin"),
        ip=client_ip(request, svc.settings.trusted_proxies),
        voter_token=request.headers.get("x-rostra-voter"),
        edit_token=edit_token,
        sso=request.headers.get("x-rostra-sso") or None,
        session=request.headers.get("x-rostra-session") or None,
        extras={k: v for k, v in extras.items() if v is not None},
    )


def _comments_site_allows(svc: Services, comment_id: int, origin: str) -> bool:
    """Whether the site of comment ``comment_id`` allows ``origin`` (False when the
    comment is not there)."""
    site_id = svc.comments.site_of(comment_id)
    if site_id is None:
        return False
    try:
        return svc.sites.origin_allowed(svc.sites.get(site_id), origin)
    except NotFound:
        return False


def _limit(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if value == "all":
        return 0
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise InvalidInput("limit: a number or 'all'")
    number = int(value)
    if number == 0:
        raise InvalidInput("limit: a number from 1, or 'all'")
    return number


STALE_HEADER = "X-Rostra-Stale-Ms"


def _entry_response(request: Request, entry: Entry, stale: bool = False) -> Response:
    gzipped = entry.gzipped is not None and accepts_gzip(
        request.headers.get("accept-encoding", ""))
    etag = entry.gzip_etag if gzipped else entry.etag
    headers = {"ETag": etag, "Vary": "Accept-Encoding"}
    if stale:
        headers[STALE_HEADER] = stale_ms(entry)
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    headers["Cache-Control"] = "no-cache"
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        return Response(entry.gzipped, media_type="application/json", headers=headers)
    return Response(entry.body, media_type="application/json", headers=headers)


async def _cached_read(
    request: Request, read_page: Callable[[], tuple[dict[str, Any], str, tuple[Tag, ...]]],
    add: Callable[[dict[str, Any], list[Any]], bool] | None = None,
) -> Response:
    """Answer a cached read: one rebuild per page at a time, shared by the readers who
    come meanwhile; those may get the page from just before the write instead (marked).

    A rebuild after new comments only (``add`` says how to put them in a page) starts
    from the page it replaces instead of the database, when ``add`` can."""
    cache: ReadCache = request.app.state.cache
    key = cache_key(request.scope, request.headers.get("origin", ""))
    stale = cache.stale(key)  # the Front answers most of these; some slip past it
    if stale is not None:
        return _entry_response(request, stale, stale=True)

    async def build(started_gen: int) -> Entry:
        def updated(built_at: float) -> Entry | None:
            base = cache.latest(key) if add is not None else None
            changes = cache.changes_since(base, started_gen) if base is not None else None
            if base is None or changes is None or add is None:
                return None
            body = orjson.loads(base.body)
            if not add(body, changes):
                return None
            data = orjson.dumps(body)
            cache.count_update()
            return page_entry(data, base.site_id, base.tags, built_at, started_gen)

        def read() -> Entry:
            built_at = time.monotonic()
            entry = updated(built_at)
            if entry is not None:
                return entry
            body, site_id, tags = read_page()
            return page_entry(orjson.dumps(body), site_id, tags, built_at, started_gen)

        entry = await run_in_threadpool(read)
        cache.put(key, entry, started_gen)
        return entry

    return _entry_response(request, await cache.rebuild(key, build))


# -- read tier ---------------------------------------------------------------


@read.get("/comments", response_model=PageOut, summary="List a thread's comments")
async def list_comments(
    request: Request,
    thread: Annotated[str, Query(max_length=1000, description="Thread id, path or URL")],
    site: Annotated[str | None, Query(max_length=64)] = None,
    sort: SortOrder = SortOrder.NEWEST,
    limit: Annotated[str | None, Query(description="1..max page size, or 'all'")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    # GET /api/comments — a page of top-level comments with their reply trees
    svc = services(request)
    req = PageRequest(thread=thread, site=site, sort=sort, limit=_limit(limit), cursor=cursor)
    origin = request.headers.get("origin")

    def read_page() -> tuple[dict[str, Any], str, tuple[Tag, ...]]:
        page = svc.reading.page(req, origin)
        return page.body, page.site_id, thread_tags(page.site_id, page.thread_id, page.key)

    def add(body: dict[str, Any], changes: list[Any]) -> bool:
        # New comments first: each came with no votes, and counts are as votes left them.
        new = [c.comment for c in changes if isinstance(c, PageChange)]
        counts = [n for c in changes if isinstance(c, VoteCounts) for n in c.counts]
        return ((not new or svc.reading.add_to_page(body, req, new, origin))
                and (not counts or svc.reading.votes_into_page(body, req, counts)))

    return await _cached_read(request, read_page, add)


@read.get("/counts", response_model=CountsOut, summary="Comment counts of many threads")
async def get_counts(
    request: Request,
    thread: Annotated[list[str], Query(max_length=200)],
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    # GET /api/counts?thread=a&thread=b — one request for an index page
    svc = services(request)
    origin = request.headers.get("origin")

    def read_page() -> tuple[dict[str, Any], str, tuple[Tag, ...]]:
        site_id, counts = svc.reading.counts(thread, site, origin)
        return {"counts": counts}, site_id, (("site", site_id),)

    return await _cached_read(request, read_page)


@read.post("/counts", response_model=CountsOut, summary="Comment counts (many threads)")
def post_counts(request: Request, body: CountsIn) -> Response:
    # POST /api/counts — the same, for lists too long for a URL
    svc = services(request)
    _site_id, counts = svc.reading.counts(body.threads, body.site, request.headers.get("origin"))
    return json_response({"counts": counts})


@read.get("/comments/{comment_id}", response_model=SingleOut, summary="One comment")
def get_comment(request: Request, comment_id: IdPath) -> Response:
    # GET /api/comments/{id} — permalinks, and a held comment for its author
    svc = services(request)
    body = svc.comments.get(comment_id, context(request, comment_id))
    # With an edit token (the header or the cookie) the answer may be the author's own:
    # a held comment, its moderation message. No cache may keep it for anyone else.
    private = (request.headers.get("x-rostra-edit-token")
               or request.cookies.get(f"rostra_edit_{comment_id}"))
    return json_response(body, headers={"Cache-Control": "private, no-store"}
                         if private else None)


@read.get("/votes", response_model=VotesOut, summary="The reader's own votes in a thread")
def get_votes(
    request: Request,
    thread: Annotated[str, Query(max_length=1000)],
    site: Annotated[str | None, Query(max_length=64)] = None,
    x_rostra_voter: Annotated[str | None, Header()] = None,
) -> Response:
    # GET /api/votes — so the widget can show which way the reader voted
    svc = services(request)
    votes = svc.votes.my_votes(site, thread, context(request))
    return json_response({"votes": {str(k): v for k, v in votes.items()}},
                         headers={"Cache-Control": "private, no-store"})


@read.get("/origin", response_model=OriginOut, summary="Whether this page may embed the site")
def check_origin(
    request: Request, site: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    # GET /api/origin — answered to any page (the Front allows every origin here), so
    # a widget on a page the site does not list can say why instead of "unreachable"
    svc = services(request)
    origin = request.headers.get("origin")
    if site:
        allowed = svc.sites.origin_allowed(svc.sites.get(site), origin)
    else:
        allowed = origin is None or svc.sites.is_known_origin(origin)
    return json_response({"site": site, "origin": origin, "allowed": allowed},
                         headers={"Cache-Control": "no-store"})


@read.post("/preview", response_model=PreviewOut, summary="Render Markdown as it would be stored")
def preview(request: Request, body: PreviewIn) -> Response:
    # POST /api/preview — the comment form's preview tab
    svc = services(request)
    return json_response(
        {"html": svc.comments.preview(body.text, body.site, request.headers.get("origin"))}
    )


# -- write tier --------------------------------------------------------------


@write.post("/comments", status_code=201, response_model=PostedOut, summary="Post a comment")
async def post_comment(request: Request, body: CommentIn) -> Response:
    # POST /api/comments — a new comment or reply; the author gets an edit token.
    # The Front answers this route itself (rostra.api.posting) with the same model and
    # response; this declaration documents it and serves the app without the Front.
    lane: Lane = request.app.state.posting
    ctx = context(request, pow=body.pow, nudge_acknowledged=body.nudge_acknowledged or None)
    posted = await lane.post(new_comment(body), ctx)
    secure = cookie_is_secure(served_over_https(request), request.url.hostname or "")
    return Response(posted_body(posted), status_code=201, media_type="application/json",
                    headers={"Set-Cookie": edit_cookie(posted, secure)})


@write.post("/comments/{comment_id}/vote", response_model=VoteOut, summary="Vote on a comment")
def vote(request: Request, comment_id: IdPath, body: VoteIn) -> Response:
    # POST /api/comments/{id}/vote — up, down, or 0 to take the vote back
    svc = services(request)
    result = svc.votes.vote(comment_id, body.value, context(request, comment_id))
    return json_response(
        {"score": result.score, "upvotes": result.upvotes, "downvotes": result.downvotes,
         "vote": result.vote, "voter": result.voter_token}
    )


# -- author tier -------------------------------------------------------------


@author.patch("/comments/{comment_id}", response_model=SingleOut, summary="Edit own comment")
def edit_comment(request: Request, comment_id: IdPath, body: CommentEdit) -> Response:
    # PATCH /api/comments/{id} — within the edit window, with the edit token
    svc = services(request)
    comment = svc.comments.edit(comment_id, body.text, context(request, comment_id))
    return json_response({"comment": comment})


@author.delete("/comments/{comment_id}", summary="Delete own comment")
def delete_comment(request: Request, comment_id: IdPath) -> Response:
    # DELETE /api/comments/{id} — within the edit window; replies keep a tombstone
    svc = services(request)
    comment = svc.comments.delete(comment_id, context(request, comment_id))
    response = json_response({"comment": comment})
    response.delete_cookie(f"rostra_edit_{comment_id}", path=f"/api/comments/{comment_id}")
    return response
