"""Properties of the parsers every request goes through, for any input hypothesis can
make: URLs, thread keys and ids either parse to something well-formed or are refused
with the one error the callers handle; and the live server answers any of them < 500."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rostra.core.ids import MAX_ID, parse_id
from rostra.core.thread_keys import ThreadKeyError, check_host, normalise_url, thread_key
from tests.conftest import ORIGIN, LiveServer

FAST = settings(max_examples=300, deadline=None)
LIVE = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text that looks like URLs often enough to reach every branch of the parser.
URL_CHARS = string.ascii_letters + string.digits + ":/?#[]@!$&'()*+,;=%.-_~ <>\"\\\x00\x0c"
url_like = st.one_of(
    st.text(),
    st.builds(lambda scheme, rest: scheme + rest,
              st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "//", "/"]),
              st.text(alphabet=URL_CHARS + "é中\ud800", max_size=60)),
)


@FAST
@given(url_like)
@example("http://[x]/a")
@example("http://[::1/a")
@example("https://exa mple.com/")
@example("http://a:99999/")
@example("http://[fe80::1%25eth0]/")
def test_it_normalises_a_url_or_refuses_it_with_thread_key_error(text: str) -> None:
    try:
        url = normalise_url(text)
    except ThreadKeyError:
        return
    assert normalise_url(url) == url  # a normal URL stays as it is
    host = url.split("://", 1)[1].split("/", 1)[0]
    assert not set(host) & set(" <>\"'\\`{}|^")
    bare = host[1:host.index("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    assert check_host(bare) == bare


@FAST
@given(url_like)
@example("/a/../b/")
@example("story\x00id")
def test_it_makes_a_thread_key_or_refuses_it(text: str) -> None:
    try:
        key = thread_key(text)
    except ThreadKeyError:
        return
    assert key and len(key) <= 3 * 1000
    if key.startswith("/"):
        assert thread_key(key) == key  # a stored key names its own thread


@FAST
@given(st.one_of(st.text(max_size=30), st.integers().map(str)))
@example("²")
@example("9223372036854775808")
@example("0")
@example(" 12 ")
def test_it_parses_ids_only_in_range(text: str) -> None:
    value = parse_id(text)
    assert value is None or 1 <= value <= MAX_ID
    if value is not None:
        assert str(value) == text.strip().lstrip("0") or text.strip().startswith("0")


@FAST
@given(st.integers(min_value=1, max_value=MAX_ID))
def test_it_parses_every_id_in_range(number: int) -> None:
    assert parse_id(str(number)) == number


@LIVE
@given(number=st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**70)))
def test_it_answers_any_integer_id_below_500(live_server: LiveServer, number: int) -> None:
    with live_server.client() as http:
        for path in (f"/api/comments/{number}", f"/api/comments/{number}/vote"):
            response = (http.get(path) if path.endswith(str(number))
                        else http.post(path, json={"value": 1}, headers={"Origin": ORIGIN}))
            assert response.status_code < 500, (path, response.text[:200])


# What an HTTP client can send at all (a lone surrogate cannot be encoded as UTF-8;
# the server's answer to one inside JSON is in test_malformed_input).
sendable = url_like.map(lambda s: s.encode("utf-8", "replace").decode("utf-8"))


@LIVE
@given(thread=sendable, website=sendable)
def test_it_answers_any_thread_or_website_below_500(live_server: LiveServer, thread: str,
                                                    website: str) -> None:
    live_server.add_site("props", [ORIGIN])
    with live_server.client() as http:
        responses = [
            http.post("/api/counts", json={"site": "props", "threads": [thread]}),
            http.post("/api/comments", headers={"Origin": ORIGIN}, json={
                "site": "props", "thread": thread, "text": "hi", "name": "P"}),
            http.post("/api/comments", headers={"Origin": ORIGIN}, json={
                "site": "props", "thread": "/props/", "text": "hi", "name": "P",
                "website": website}),
        ]
        if "\x00" not in thread:
            responses.append(http.get("/api/comments",
                                      params={"site": "props", "thread": thread}))
        for response in responses:
            assert response.status_code < 500, (response.request.url, response.text[:200])
