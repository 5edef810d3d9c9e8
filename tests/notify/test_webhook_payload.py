"""What a webhook call says of a comment's author: as much as its thread's page does."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from rostra.notify.model import WebhookEvent
from rostra.services.notify_hooks import webhook_payload

THREAD = SimpleNamespace(id=1, key="/story", url="https://news.example/story", title="Story")


def _comment(website: str | None) -> SimpleNamespace:
    return SimpleNamespace(
        id=7, parent_id=None, state="approved", author_name="Eve", author_website=website,
        text="Hello", html="<p>Hello</p>", created_at=datetime(2026, 12, 1, tzinfo=UTC),
        edited_at=None)


def test_a_call_names_an_authors_website_only_when_it_is_a_web_address() -> None:
    # The API refuses anything else, but an import keeps what the old system stored.
    for stored, sent in (("https://eve.example/", "https://eve.example/"),
                         ("javascript:alert(document.domain)", None),
                         ("data:text/html;base64,PHNjcmlwdD4=", None),
                         ("eve dot example", None), (None, None)):
        body = webhook_payload(WebhookEvent.APPROVED, "s", THREAD, _comment(stored),
                               "d1")
        assert body["comment"]["author"] == {"name": "Eve", "website": sent}, stored
