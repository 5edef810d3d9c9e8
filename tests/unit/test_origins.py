"""Site origins: one canonical spelling, and a refusal that says what was typed."""

from __future__ import annotations

import pytest

from rostra.core.errors import InvalidInput
from rostra.services.sites import normalise_origin


@pytest.mark.parametrize(("given", "expected"), [
    ("HTTPS://News.Example", "https://news.example"),
    (" https://news.example/ ", "https://news.example"),
    ("https://news.example:443", "https://news.example"),
    ("http://news.example:8080//", "http://news.example:8080"),
    ("https://[2001:DB8::1]:8443", "https://[2001:db8::1]:8443"),
])
def test_it_spells_each_origin_one_way(given: str, expected: str) -> None:
    assert normalise_origin(given) == expected


def test_it_refuses_what_is_no_origin_and_quotes_it() -> None:
    for bad in ("news.example", "ftp://news.example", "https://user@news.example", ""):
        with pytest.raises(InvalidInput) as refused:
            normalise_origin(bad)
        assert str(refused.value) == f"not an origin (scheme://host[:port]): {bad!r}"
    long = "x" * 150
    with pytest.raises(InvalidInput) as refused:
        normalise_origin(long)
    assert str(refused.value) == f"not an origin (scheme://host[:port]): {'x' * 100!r}"


def test_it_refuses_an_origin_with_a_path_and_says_what_it_would_allow() -> None:
    # https://news.example/blog allowed every page of news.example, /blog or not.
    for given in ("https://News.Example/blog", "https://news.example/?page=1",
                  "https://news.example/#top", "http://news.example:8080/path/"):
        with pytest.raises(InvalidInput) as refused:
            normalise_origin(given)
        origin = given.split("/")[0] + "//" + given.split("/")[2].lower()
        assert str(refused.value) == (f"an origin has no path: {given!r} (the origin "
                                      f"{origin} allows every page of that host)")
