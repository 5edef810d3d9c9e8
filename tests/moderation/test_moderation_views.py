"""The in-memory views of bans and authors' histories that every post reads: a change
through this process shows at once, one through another process after the TTL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rostra.config import Settings
from rostra.services.comments import NewComment, RequestContext
from rostra.services.container import Services
from rostra.services.moderation import BanKind, BanRequest, ModerationService, StaffAction
from rostra.services.moderation_views import TTL, BanView, HistoryView
from rostra.store import migrate
from rostra.store.db import Database
from tests.conftest import POSTGRES_URL, create_postgres_database, require

SITE = "views"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Process:
    """One server process: its own Database (connections) and services on the shared file."""

    db: Database
    services: Services
    moderation: ModerationService


def start(url: str) -> Process:
    db = Database(url)
    migrate.upgrade(db)  # a no-op once the first process did it
    services = Services.build(Settings(database_url=url, secret_key="views"), db)
    return Process(db, services, ModerationService(services.comments))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def processes(request: pytest.FixtureRequest,
              tmp_path: Path) -> Iterator[tuple[Process, Process]]:
    """Two processes on one database, on SQLite and on PostgreSQL."""
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.sqlite3'}"
    else:
        require(bool(POSTGRES_URL), "ROSTRA_TEST_POSTGRES_URL is not set")
        url, drop = create_postgres_database(POSTGRES_URL)
    first = start(url)
    first.services.sites.create(SITE, "Views", ["https://news.example"])
    second = start(url)
    yield first, second
    first.db.dispose()
    second.db.dispose()
    if drop is not None:
        drop()


def ban(process: Process, voter: str, *, shadow: bool = False) -> int:
    out = process.moderation.ban(
        BanRequest(SITE, BanKind.VOTER, value=voter, shadow=shadow), actor="mod")
    return int(out["id"])


def test_it_sees_a_ban_at_once_here_and_after_the_ttl_from_another_process(
    processes: tuple[Process, Process],
) -> None:
    here, other = processes
    clock = Clock()
    view = BanView(here.db, clock=clock)
    assert view.active(SITE, ["v:troll"]) is None  # the site's bans are now in memory
    ban_id = ban(other, "troll")
    assert view.active(SITE, ["v:troll"]) is None  # another process: not yet
    clock.now += TTL
    hit = view.active(SITE, ["v:someone", "v:troll"])
    assert hit is not None and hit.id == ban_id and not hit.shadow
    other.moderation.unban(ban_id, actor="mod")
    view.invalidate(SITE)  # what this process's service does after its own change
    assert view.active(SITE, ["v:troll"]) is None


def test_it_lifts_a_ban_made_through_this_process_at_once(
    processes: tuple[Process, Process],
) -> None:
    here, _ = processes
    keys = ["v:spammer"]
    assert here.moderation.active_ban(SITE, keys) is None
    ban_id = ban(here, "spammer")
    assert here.moderation.active_ban(SITE, keys) is not None
    here.moderation.unban(ban_id, actor="mod")
    assert here.moderation.active_ban(SITE, keys) is None


def test_it_prefers_a_full_ban_to_a_shadow_one_and_queries_a_site_with_too_many(
    processes: tuple[Process, Process],
) -> None:
    here, _ = processes
    shadow_id = ban(here, "both", shadow=True)
    full_id = ban(here, "both")
    ban(here, "third")
    for limit in (10, 2):  # 2: more bans than the view keeps, so it asks the database
        view = BanView(here.db, limit=limit)
        hit = view.active(SITE, ["v:both"])
        assert hit is not None and hit.id == full_id and shadow_id < full_id
        assert view.active(SITE, ["v:nobody", "i:nothing"]) is None


def post(process: Process, voter_token: str | None = None) -> tuple[int, str]:
    posted = process.services.comments.post(
        NewComment(thread="/story", text="A comment about the story.", site=SITE, name="Ana"),
        RequestContext(ip="203.0.113.5", voter_token=voter_token),
    )
    token = posted.voter_token or voter_token
    assert token is not None
    return int(posted.comment["id"]), token


def author_of(process: Process, voter_token: str) -> str:
    voter = process.services.tokens.voter_id(voter_token)
    return f"v:{voter}"


def test_it_counts_a_decision_here_at_once_and_from_another_process_after_the_ttl(
    processes: tuple[Process, Process],
) -> None:
    here, other = processes
    first, token = post(here)
    second, _ = post(here, token)
    author = author_of(here, token)
    assert here.moderation.history(SITE, author).approved == 0
    here.moderation.decide(first, StaffAction.APPROVE, actor="mod")
    assert here.moderation.history(SITE, author).approved == 1

    clock = Clock()
    view = HistoryView(here.db, clock=clock)
    assert view.get(SITE, author).approved == 1
    other.moderation.decide(second, StaffAction.SPAM, actor="mod")
    assert view.get(SITE, author).spam == 0  # another process: not yet
    clock.now += TTL
    history = view.get(SITE, author)
    assert (history.approved, history.rejected, history.spam) == (1, 0, 1)


def test_it_asks_the_database_when_a_site_has_more_histories_than_it_keeps(
    processes: tuple[Process, Process],
) -> None:
    here, _ = processes
    authors = []
    for _ in range(3):
        comment_id, token = post(here)
        here.moderation.decide(comment_id, StaffAction.REJECT, actor="mod")
        authors.append(author_of(here, token))
    view = HistoryView(here.db, capacity=2)
    assert [view.get(SITE, a).rejected for a in authors] == [1, 1, 1]
    assert view.get(SITE, "v:unknown").rejected == 0
