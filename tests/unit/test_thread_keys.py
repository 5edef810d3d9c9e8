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
