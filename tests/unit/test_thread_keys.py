import pytest

from rostra.core.thread_keys import ThreadKeyError, normalise_url, thread_key


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("HTTPS://News.Example.COM/a/b/", "https://news.example.com/a/b"),
        ("https://news.example:443/a", "https://news.example/a"),
        ("http://news.example:80/a", "http://news.example/a"),
        ("http://news.example:8080/a", "http://news.example:8080/a"),
        ("https://news.example/a#comments", "https://news.example/a"),
        ("https://news.example/a?utm_source=x&utm_medium=y&id=3", "https://news.example/a?id=3"),
        ("https://news.example/a?fbclid=1&gclid=2&page=2", "https://news.example/a?page=2"),
        ("https://news.example/a?b=2&a=1", "https://news.example/a?b=2&a=1"),
        ("https://news.example", "https://news.example/"),
        ("https://news.example/caf%C3%A9/", "https://news.example/caf%C3%A9"),
        ("https://news.example/café", "https://news.example/caf%C3%A9"),
    ],
)
def test_it_normalises_urls(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_it_keys_every_spelling_of_a_page_the_same() -> None:
    spellings = [
        "https://news.example/2026/11/story/",
        "HTTP://NEWS.EXAMPLE:80/2026/11/story?utm_campaign=x#c12",
        "/2026/11/story/",
        "/2026/11/story",
    ]
    assert {thread_key(s) for s in spellings} == {"/2026/11/story"}


def test_it_keeps_explicit_ids_as_written() -> None:
    assert thread_key("  post-42 ") == "post-42"
    assert thread_key("Post-42") == "Post-42"


@pytest.mark.parametrize("bad", ["", "   ", "x" * 1001, "ftp://news.example/a", "a\x00b"])
def test_it_refuses_unusable_identifiers(bad: str) -> None:
    with pytest.raises(ThreadKeyError):
        thread_key(bad)


@pytest.mark.parametrize(("given", "expected"), [
    ("News.Example.", "news.example"),
    ("a_b.example", "a_b.example"),
    ("xn--caf-dma.example", "xn--caf-dma.example"),
    ("café.example", "xn--caf-dma.example"),
    ("203.0.113.9", "203.0.113.9"),
    ("2001:DB8::1", "2001:db8::1"),
    ("fe80::1%eth0", "fe80::1"),
    ("fe80::1%a%b", "fe80::1"),
    ("a" * 63 + ".example", "a" * 63 + ".example"),
    (".".join(["a" * 49] * 5) + ".abc", ".".join(["a" * 49] * 5) + ".abc"),  # 253 characters
])
def test_it_gives_hosts_one_canonical_form(given: str, expected: str) -> None:
    from rostra.core.thread_keys import check_host

    assert check_host(given) == expected


LONG_IDN = "\u00e9 " + "c" * 120


@pytest.mark.parametrize(("bad", "message"), [
    ("", "empty or overlong host"), (".", "empty or overlong host"),
    (".".join(["a" * 49] * 5) + ".abcd", "empty or overlong host"),
    ("a" * 64 + ".example", "not a host name: 'aaaa"), ("-a.example", "not a host name: "),
    ("a-.example", "not a host name: "), ("a b.example", "not a host name: 'a b.example'"),
    ("a..example", "not a host name: "), ("<x>", "not a host name: '<x>'"),
    ("a'b", "not a host name: "), ("\udcff.example", "not a host name: "),
    ("not:an:address", "not an IPv6 address: 'not:an:address'"),
    ("[::1]", "not an IPv6 address: '[::1]'"),
    ("a b" + "c" * 120, f"not a host name: {('a b' + 'c' * 120)[:100]!r}"),
    (LONG_IDN, f"not a host name: {LONG_IDN[:100]!r}"),
])
def test_it_refuses_what_is_no_host(bad: str, message: str) -> None:
    from rostra.core.thread_keys import check_host

    with pytest.raises(ThreadKeyError) as refused:
        check_host(bad)
    assert str(refused.value).startswith(message), str(refused.value)


@pytest.mark.parametrize(("given", "expected"), [
    ("  https://news.example/a  ", "https://news.example/a"),
    ("https://[2001:DB8::1]:8443/a/", "https://[2001:db8::1]:8443/a"),
    ("https://[2001:db8::1]/a", "https://[2001:db8::1]/a"),
    ("https://news.example:80/a", "https://news.example:80/a"),
    ("http://news.example:443/a", "http://news.example:443/a"),
    ("https://news.example///", "https://news.example/"),
    ("https://news.example//", "https://news.example/"),
    ("https://news.example/%7Euser/", "https://news.example/~user"),
    ("https://news.example/a?UTM_Source=x&PK_x=1&Amp&q=", "https://news.example/a?q="),
    ("https://news.example/a?x=1&x=2&Ref_Url=z", "https://news.example/a?x=1&x=2"),
    ("https://news.example/a?empty", "https://news.example/a?empty="),
    ("https://news.example/a:b@c!d$e&f'g(h)i*j+k,l;m=n~o/",
     "https://news.example/a:b@c!d$e&f'g(h)i*j+k,l;m=n~o"),
    ("https://news.example/ABX/", "https://news.example/ABX"),
    ("https://news.example/a b", "https://news.example/a%20b"),
])
def test_it_normalises_the_rest_of_a_url(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


@pytest.mark.parametrize(("bad", "message"), [
    ("https://user:pw@news.example/a", "a URL with a user name or password: 'https://user:pw@"),
    ("https://user@news.example/", "a URL with a user name or password: "),
    ("https://:pw@news.example/", "a URL with a user name or password: "),
    ("https://news.example:99999/", "bad port in URL: 'https://news.example:99999/'"),
    ("https://news.example:x/", "bad port in URL: "),
    ("https:///a", "not an http(s) URL: 'https:///a'"),
    ("mailto:a@b.example", "not an http(s) URL: 'mailto:a@b.example'"),
    ("https://[x]/", "not an http(s) URL: 'https://[x]/'"),
    ("https://news.example/\udcff", "not an http(s) URL: it holds an unpaired surrogate"),
    ("//news.example/a", "not an http(s) URL: "), ("news.example/a", "not an http(s) URL: "),
])
def test_it_refuses_urls_that_name_no_page(bad: str, message: str) -> None:
    with pytest.raises(ThreadKeyError) as refused:
        normalise_url(bad)
    assert str(refused.value).startswith(message), str(refused.value)


def test_it_takes_the_origin_of_a_normalised_url() -> None:
    from rostra.core.thread_keys import origin_of

    assert origin_of("https://news.example:8443/a?b=1") == "https://news.example:8443"
    assert origin_of("http://[2001:db8::1]/x") == "http://[2001:db8::1]"


def test_it_keys_paths_and_urls_with_their_query_and_refuses_other_schemes() -> None:
    assert thread_key("/a/b/?utm_source=x&page=2") == "/a/b?page=2"
    assert thread_key("https://news.example/a/?page=2#c") == "/a?page=2"
    assert thread_key("HTTPS://news.example/") == "/"
    assert thread_key("/") == "/"
    assert thread_key("x" * 1000) == "x" * 1000
    for bad in ("javascript://x", "a\tb", "a\x1fb", "post\udcff"):
        with pytest.raises(ThreadKeyError):
            thread_key(bad)


def test_it_quotes_at_most_100_characters_of_what_it_refuses() -> None:
    from rostra.core.thread_keys import check_host

    cases = [
        (lambda t: check_host(t), "1:" * 80, "not an IPv6 address: "),
        (normalise_url, "https://[" + "x" * 120 + "]/", "not an http(s) URL: "),
        (normalise_url, "gopher://" + "x" * 120, "not an http(s) URL: "),
        (normalise_url, "https://u:p@news.example/" + "x" * 120,
         "a URL with a user name or password: "),
        (normalise_url, "https://news.example:99999/" + "x" * 120, "bad port in URL: "),
    ]
    for parse, text, prefix in cases:
        with pytest.raises(ThreadKeyError) as refused:
            parse(text)
        assert str(refused.value) == prefix + repr(text[:100]), text


def test_a_script_url_names_no_thread_and_makes_no_link() -> None:
    from rostra.core.thread_keys import http_url

    for bad in ("javascript:alert(1)", " JavaScript:fetch('//x')", "vbscript:msgbox",
                "data:text/html,<script>x()</script>"):
        with pytest.raises(ThreadKeyError):
            thread_key(bad)
        assert http_url(bad) is None
    # Explicit ids with a colon stay keys, as they were.
    assert thread_key("post:12") == "post:12"
    assert http_url(" https://news.example/a/ ") == "https://news.example/a/"
    assert http_url("https://[x]/") is None and http_url(None) is None
