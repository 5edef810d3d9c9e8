"""HTTP routes of the widget: the loader, its versioned files, the demo pages."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from rostra.widget import demo
from rostra.widget.build import Asset, bundle

# The loader's name never changes, so it is cached briefly: a deploy reaches
# readers within minutes. Everything it loads has the version in its path.
LOADER_CACHE = "public, max-age=300"
IMMUTABLE = "public, max-age=31536000, immutable"
# A page holding an old loader may ask for a version that is gone: it gets the
# current file, cached briefly, rather than a broken widget.
STALE_CACHE = "public, max-age=60"

router = APIRouter(include_in_schema=False)
demo_router = APIRouter(include_in_schema=False)


def _send(asset: Asset, request: Request, cache_control: str) -> Response:
    # Module scripts are fetched in CORS mode from the host page's origin: the
    # Front (rostra.api.front) adds Access-Control-Allow-Origin for the sites'
    # origins, so no wildcard here (two such headers would fail every load).
    headers = {
        "Cache-Control": cache_control,
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/embed.js")
def embed_js(request: Request) -> Response:
    # GET /embed.js — the loader a site puts in its <script> tag
    return _send(bundle().loader, request, LOADER_CACHE)


@router.get("/widget/{version}/{path:path}")
def widget_file(version: str, path: str, request: Request) -> Response:
    # GET /widget/<version>/<path> — a module of the widget, immutable per version
    b = bundle()
    asset = b.files.get(path)
    if asset is None:
        return Response(status_code=404)
    return _send(asset, request, IMMUTABLE if version == b.version else STALE_CACHE)


@demo_router.get("/demo/", response_class=HTMLResponse)
def demo_article() -> HTMLResponse:
    # GET /demo/ — the demo article with the discussion under it
    return HTMLResponse(demo.article_page(demo.MAIN))


@demo_router.get("/demo/index.html", response_class=HTMLResponse)
def demo_index() -> HTMLResponse:
    # GET /demo/index.html — the demo front page with comment counts
    return HTMLResponse(demo.index_page())


@demo_router.get("/demo/{year}/{month}/{slug}", response_class=HTMLResponse)
def demo_other_article(year: str, month: str, slug: str) -> HTMLResponse:
    # GET /demo/<year>/<month>/<slug> — each demo article under its own address
    article = demo.find(f"{year}/{month}/{slug}")
    if article is None:
        return HTMLResponse("Not found", status_code=404)
    return HTMLResponse(demo.article_page(article))


@demo_router.get("/demo/demo.css")
def demo_css() -> Response:
    # GET /demo/demo.css — the demo news site's own stylesheet
    css = (demo.TEMPLATES / "demo.css").read_bytes()
    return Response(css, media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=300"})
