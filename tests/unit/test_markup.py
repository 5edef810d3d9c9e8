from html.parser import HTMLParser

from rostra.core.markup import render, sanitise_html


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def test_it_renders_the_markdown_subset() -> None:
    html = render("*em* **strong** `code`\n\n> quote\n\n- one\n- two\n\n```\nblock\n```")
    names = [t for t, _ in parse(html)]
    for tag in ("em", "strong", "code", "blockquote", "ul", "li", "pre"):
        assert tag in names


def test_it_marks_links_nofollow_ugc_noopener() -> None:
    tags = parse(render("[site](https://example.org) and https://example.com/x"))
    links = [attrs for tag, attrs in tags if tag == "a"]
    assert [a["href"] for a in links] == ["https://example.org", "https://example.com/x"]
    assert all(set((a["rel"] or "").split()) == {"nofollow", "ugc", "noopener"} for a in links)


def test_it_links_bare_addresses_the_way_linkify_it_does() -> None:
    # Rostra looks for '//', '@' or a dot before a letter before asking linkify-it; every
    # form it links must still be found, and plain prose must stay plain.
    cases = {
        "see example.com now": "http://example.com",
        "see www.example.sk.": "http://www.example.sk",
        "mail me@example.org": "mailto:me@example.org",
        "mailto:me@example.org": "mailto:me@example.org",
        "at https://example.com/a?b=1 today": "https://example.com/a?b=1",
        "//example.com/x": "//example.com/x",
        "Ďalej na príklad.рф": "http://xn--prklad-4va.xn--p1ai",
    }
    for text, href in cases.items():
        assert [a["href"] for t, a in parse(render(text)) if t == "a"] == [href], text
    for text in ("The end.Next time: 3.5 percent, at 10:30.", "a: b // c", "ratio 1.5"):
        assert "<a" not in render(text), text


def test_it_never_lets_raw_html_or_scripts_through() -> None:
    html = render('<script>alert(1)</script><img src=x onerror=alert(1)> <b onclick="x">b</b>')
    assert all(tag not in ("script", "img", "b") for tag, _ in parse(html))
    assert "&lt;script&gt;" in html


def test_it_drops_dangerous_link_schemes() -> None:
    for text in ("[x](javascript:alert(1))", "[x](data:text/html;base64,AAAA)", "[x](vbscript:y)"):
        assert all(tag != "a" for tag, _ in parse(render(text)))


def test_it_keeps_images_off_unless_the_site_allows_them() -> None:
    assert all(tag != "img" for tag, _ in parse(render("![alt](https://example.org/a.png)")))
    images = [a for t, a in parse(render("![alt](https://example.org/a.png)", images=True))
              if t == "img"]
    assert images and images[0]["src"] == "https://example.org/a.png"


def test_it_sanitises_imported_html() -> None:
    html = sanitise_html('<p onclick="x">hi <a href="javascript:x">l</a><iframe></iframe></p>')
    tags = parse(html)
    assert [t for t, _ in tags] == ["p", "a"]
    assert tags[0][1] == {}
    assert "href" not in tags[1][1]


def test_it_keeps_only_the_listed_attributes_of_links_and_lists() -> None:
    # Event handlers, styles and targets are dropped from every tag that keeps attributes.
    extras = ' onclick="alert(1)" onmouseover="alert(2)" onfocus="alert(3)" style="color:red"' \
             ' target="_blank" id="i" class="c" data-x="1" formaction="javascript:x"'
    html = sanitise_html(f'<p{extras}><a href="https://x.org" title="t"{extras}>x</a></p>'
                         f'<ol start="3"{extras}><li{extras}>one</li></ol>')
    assert parse(html) == [
        ("p", {}),
        ("a", {"href": "https://x.org", "title": "t", "rel": "nofollow ugc noopener"}),
        ("ol", {"start": "3"}),
        ("li", {}),
    ]
    images = [(t, a) for t, a in parse(render(
        '![alt](https://example.org/a.png "t")', images=True)) if t == "img"]
    assert images == [("img", {"src": "https://example.org/a.png", "alt": "alt", "title": "t"})]


def test_it_keeps_relative_links_with_a_colon_after_the_first_slash() -> None:
    # A colon before any slash is a scheme (javascript:, data:): the link goes. After a
    # slash it is part of a path, and the link stays.
    for href in ("/wiki/Talk:Budget", "notes/a:b", "../x:y", "/?q=a:b"):
        assert [a["href"] for t, a in parse(render(f"[x]({href})")) if t == "a"] == [href], href
    for href in ("javascript:alert(1)", "JavaScript:alert(1)", " data:text/html,x", "x:y/z"):
        assert all(t != "a" for t, _ in parse(render(f"[x]({href})"))), href


def test_it_strips_comments_from_imported_html() -> None:
    assert sanitise_html("<p>a<!-- hidden --><!--[if IE]><script>x</script><![endif]-->b</p>") \
        == "<p>ab</p>"


def test_it_builds_its_cleaners_with_every_rule() -> None:
    # The cleaners are built once at import; building them here puts every rule of
    # _cleaner under test (tags, attributes, URL schemes, rel, comments).
    from rostra.core.markup import ALLOWED_TAGS, ALLOWED_TAGS_WITH_IMAGES, _cleaner

    dirty = ('<p onclick="x">a<!-- c --><a href="javascript:x" title="t">l</a> '
             '<a href="https://e.org">e</a> <a href="mailto:a@e.org">m</a> '
             '<a href="ftp://e.org">f</a><img src="https://e.org/i.png" alt="i" onerror="x">'
             '<ol start="2"><li>x</li></ol><script>x</script></p>')
    links = ('<p>a<a title="t" rel="nofollow ugc noopener">l</a> '
             '<a href="https://e.org" rel="nofollow ugc noopener">e</a> '
             '<a href="mailto:a@e.org" rel="nofollow ugc noopener">m</a> '
             '<a rel="nofollow ugc noopener">f</a>')
    rest = '</p><ol start="2"><li>x</li></ol><p></p>'
    assert _cleaner(ALLOWED_TAGS).clean(dirty) == links + rest
    assert _cleaner(ALLOWED_TAGS_WITH_IMAGES).clean(dirty) == (
        links + '<img src="https://e.org/i.png" alt="i">' + rest)


def test_it_builds_cleaners_that_keep_only_our_attributes_and_schemes() -> None:
    from rostra.core.markup import ALLOWED_TAGS, _cleaner

    # nh3's defaults would keep hreflang; ours keep href and title only (lang is global).
    assert _cleaner(ALLOWED_TAGS).clean(
        '<p lang="en">a <a href="http://e.org" hreflang="en" title="t">h</a></p>'
    ) == '<p lang="en">a <a href="http://e.org" title="t" rel="nofollow ugc noopener">h</a></p>'
