"""Thread pages go out gzipped to every client that accepts it: a 1,000-comment page is
about 500 KB of JSON, a few times less gzipped. Compressed once per page version."""

from __future__ import annotations

import gzip
import random

import httpx

from tests.conftest import ORIGIN, Reader


def _get(http: httpx.Client, site: str, thread: str, encoding: str | None,
         etag: str | None = None) -> httpx.Response:
    headers = {"Origin": ORIGIN, "Accept-Encoding": encoding or "identity"}
    if etag:
        headers["If-None-Match"] = etag
    return http.get("/api/comments", params={"site": site, "thread": thread, "limit": "all"},
                    headers=headers)


def _raw(http: httpx.Client, site: str, thread: str, encoding: str) -> tuple[httpx.Response,
                                                                             bytes]:
    with http.stream("GET", "/api/comments",
                     params={"site": site, "thread": thread, "limit": "all"},
                     headers={"Origin": ORIGIN, "Accept-Encoding": encoding}) as response:
        return response, b"".join(response.iter_raw())


SYLLABLES = ("ka", "lo", "mi", "ru", "sen", "tor", "va", "pel", "dun", "ish", "or", "bel")
WORDS = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in ("", "n", "s")]


def _fill(http: httpx.Client, site: str, thread: str, n: int = 30) -> None:
    # Readers of their own, each writing something different: no flood, nothing held.
    for i in range(n):
        words = " ".join(random.Random(i).sample(WORDS, 14))
        posted = Reader(f"Reader {i}", http, site).post(thread, f"{i}: {words}.")
        assert posted.json()["comment"]["state"] == "approved", posted.text


def test_a_page_is_gzipped_for_clients_that_accept_it(http: httpx.Client, site: str) -> None:
    _fill(http, site, "/gz")
    # The first read builds the page (the framework answers), the second is a cache hit
    # (the front answers): both the same way.
    for _ in range(2):
        plain, plain_raw = _raw(http, site, "/gz", "identity")
        zipped, zipped_raw = _raw(http, site, "/gz", "br, gzip;q=0.8")
        assert "content-encoding" not in plain.headers
        assert zipped.headers["content-encoding"] == "gzip"
        assert plain.headers["vary"].count("Accept-Encoding") == 1
        assert zipped.headers["vary"].count("Accept-Encoding") == 1
        assert gzip.decompress(zipped_raw) == plain_raw
        assert len(plain_raw) > 10_000 and len(zipped_raw) * 4 < len(plain_raw)
        assert int(zipped.headers["content-length"]) == len(zipped_raw)
        # Two representations, two tags; each revalidates as itself only.
        assert zipped.headers["etag"] != plain.headers["etag"]
        assert _get(http, site, "/gz", "gzip", zipped.headers["etag"]).status_code == 304
        assert _get(http, site, "/gz", None, plain.headers["etag"]).status_code == 304
        assert _get(http, site, "/gz", None, zipped.headers["etag"]).status_code == 200
        assert _get(http, site, "/gz", "gzip", plain.headers["etag"]).status_code == 200


def test_gzip_refused_with_q0_and_small_pages_go_as_they_are(http: httpx.Client, site: str,
                                                              ana: Reader) -> None:
    _fill(http, site, "/q0")
    for _ in range(2):
        refused, _ = _raw(http, site, "/q0", "gzip;q=0, identity")
        assert "content-encoding" not in refused.headers
    ana.post("/small", "One short comment.")
    for _ in range(2):
        small, raw = _raw(http, site, "/small", "gzip")
        assert "content-encoding" not in small.headers
        assert raw.startswith(b"{")
