"""/api/docs: Swagger UI served by Rostra itself, from the pinned swagger-ui-bundle-v2
package (no CDN), under a Content-Security-Policy that allows only our own scripts."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

# The files the page needs, and their types; nothing else of the package is served.
FILES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
IMMUTABLE = "public, max-age=31536000, immutable"

INIT_JS = b"""window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""


@lru_cache(maxsize=1)
def _bundle() -> tuple[str, Path]:
    """(version, folder) of the installed Swagger UI."""
    import swagger_ui_bundle  # type: ignore[import-untyped]

    folder = Path(str(swagger_ui_bundle.swagger_ui_path))
    return folder.name.removeprefix("swagger-ui-"), folder


@lru_cache(maxsize=len(FILES))
def _file(name: str) -> tuple[bytes, str]:
    _version, folder = _bundle()
    body = (folder / name).read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _page(version: str) -> str:
    base = f"/api/docs/{version}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Rostra API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{base}/swagger-ui.css">
<link rel="icon" type="image/png" href="{base}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{base}/swagger-ui-bundle.js"></script>
<script src="{base}/init.js"></script>
</body>
</html>
"""


@router.get("/api/docs")
def api_docs() -> HTMLResponse:
    # GET /api/docs — the interactive API reference
    version, _folder = _bundle()
    return HTMLResponse(_page(version), headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/api/docs/{version}/{name}")
def api_docs_file(version: str, name: str, request: Request) -> Response:
    # GET /api/docs/<version>/<file> — Swagger UI's own files, from the installed package
    current, _folder = _bundle()
    if version != current or (name not in FILES and name != "init.js"):
        return Response(b"not found\n", status_code=404, media_type="text/plain")
    if name == "init.js":
        body, etag, media = INIT_JS, '"init-' + current + '"', "text/javascript; charset=utf-8"
    else:
        (body, etag), media = _file(name), FILES[name]
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, **SECURITY_HEADERS}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)
