"""The demo site: a few invented local-news articles with the widget under
them, and an index page with their comment counts."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

TEMPLATES = Path(__file__).parent / "demo"
SITE_ID = "demo"


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    title: str
    standfirst: str
    byline: str
    published: str  # ISO date
    paragraphs: tuple[str, ...]

    month: str = "2026/11"

    @property
    def thread(self) -> str:
        # the same keys `rostra demo` seeds (rostra/demo.py)
        return f"/demo/{self.month}/{self.slug}"


ARTICLES = (
    Article(
        slug="riverside-bridge-reopens",
        title="Riverside bridge reopens after two years of repairs",
        standfirst="Cyclists and pedestrians were first across on Monday morning; "
        "buses return to the old route from next week.",
        byline="By Marta Lindqvist, City desk",
        published="2026-11-23",
        paragraphs=(
            "The Riverside bridge reopened to traffic on Monday, two years and four months "
            "after engineers closed it when routine inspections found corrosion in three of "
            "its steel bearings. A small crowd gathered on the eastern bank before seven in "
            "the morning, and the first to cross were a group of schoolchildren on bicycles, "
            "escorted by two of the workers who had spent the last winter on the scaffolding.",
            "The repairs replaced all twelve bearings, resurfaced the deck and widened the "
            "footpath on the downstream side by a metre. The council says the work cost €14 "
            "million, about nine percent more than budgeted, mostly because the river ran "
            "high for most of last spring and the crews could not work below the deck.",
            "\u201cWe had to wait for the water more than we had to wait for anything else,\u201d "
            "said the project's site manager, Tomasz Horvath. \u201cThe old bearings came out "
            "in much worse shape than the drawings suggested. Nobody should have been driving "
            "over two of them.\u201d",
            "For shop owners on Mill Street, the closure meant two slow years. The bakery at "
            "the corner of Mill Street and Quay Road lost roughly a third of its morning trade, "
            "its owner said, as commuters took the ring road instead. \u201cToday I baked "
            "double and I think it will not be enough,\u201d she said.",
            "Buses 4 and 11 return to their old route over the bridge from Monday next week. "
            "The temporary ferry, which carried more than 300,000 passengers during the "
            "closure, makes its last crossing on Sunday. The council has asked residents for "
            "ideas on what the landing stage should become.",
            "A weight limit of 7.5 tonnes stays in place until the final load test in January. "
            "The council will publish the inspection report on its website once the test is "
            "complete.",
        ),
    ),
    Article(
        slug="library-extends-opening-hours",
        title="Library extends opening hours in winter",
        standfirst="Sunday opening for a six-month trial, funded by a local foundation.",
        byline="By Ayo Mensah",
        published="2026-11-21",
        paragraphs=(
            "The central library will open from 11 a.m. to 5 p.m. on Sundays from the first "
            "weekend of December, in a six-month trial paid for by a local foundation.",
            "Staff will work Sundays on a voluntary rota; the library says the study rooms on "
            "the second floor were the most requested change in last year's survey.",
        ),
    ),
    Article(
        slug="market-square-trees",
        title="Council plans forty new trees for Market Square",
        standfirst="Lime and hornbeam, planted in spring; four parking spaces go.",
        byline="By Jonas Berg",
        published="2026-11-19",
        paragraphs=(
            "The council will plant forty trees on Market Square next spring, replacing four "
            "parking spaces and the fountain basin that has stood dry since 2019.",
            "Traders welcomed the shade, though some worry about deliveries on market days.",
        ),
    ),
    Article(
        slug="school-bus-timetable",
        title="New school bus timetable starts Monday",
        standfirst="Earlier buses on the hill routes, one more on Fridays.",
        byline="By Clara Novak",
        published="2026-10-28",
        month="2026/10",
        paragraphs=(
            "Buses for the three hill schools leave ten minutes earlier from Monday, after "
            "parents complained that pupils arrived after the first bell.",
        ),
    ),
)

MAIN = ARTICLES[0]


def _fill(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", value)
    return template


def article_page(article: Article) -> str:
    """The article as a news site would show it, with <rostra-comments> under it."""
    body = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    others = "\n".join(
        f'<li><a href="{a.thread}">{escape(a.title)}</a> '
        f'<span class="count" data-rostra-count="{a.thread}"></span></li>'
        for a in ARTICLES
        if a is not article
    )
    return _fill(
        (TEMPLATES / "article.html").read_text(encoding="utf-8"),
        {
            "title": escape(article.title),
            "standfirst": escape(article.standfirst),
            "byline": escape(article.byline),
            "published": article.published,
            "body": body,
            "thread": escape(article.thread),
            "site": SITE_ID,
            "others": others,
        },
    )


def index_page() -> str:
    """The front page: a list of articles with their comment counts."""
    items = "\n".join(
        f'<article class="teaser"><h2><a href="{a.thread}">{escape(a.title)}</a></h2>'
        f"<p>{escape(a.standfirst)}</p>"
        f'<p class="meta"><time datetime="{a.published}">{a.published}</time> · '
        f'<a href="{a.thread}#comments" data-rostra-count="{a.thread}">Comments</a></p></article>'
        for a in ARTICLES
    )
    return _fill(
        (TEMPLATES / "index.html").read_text(encoding="utf-8"),
        {"items": items, "site": SITE_ID},
    )


def find(path: str) -> Article | None:
    """The article at /demo/<path>, e.g. "2026/11/market-square-trees"."""
    return next((a for a in ARTICLES if a.thread == "/demo/" + path.strip("/")), None)
