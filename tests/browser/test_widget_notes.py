"""Context notes in the widget: under their comment, in the page's language, with who
vouches for them and their sources as links."""

from __future__ import annotations

import html
from typing import Any

import httpx
import pytest
from tests.api.test_sso import signed
from widget_page import TRACK_STREAMS, Discussion, comment, expect, widget

from rostra.services.moderation import ModerationService, StaffAction
from rostra.services.notes import NoteDraft, NoteService

pytestmark = pytest.mark.browser


def test_it_shows_a_context_note_under_its_comment(discussion: Discussion, page: Any,
                                                   live_server: Any) -> None:
    noted = discussion.post("The council never voted on the budget.", name="Ana")["comment"]
    plain = discussion.post("Thanks for the report.", name="Ben")["comment"]
    NoteService(live_server.services.comments).add_by_staff(
        noted["id"], NoteDraft("The council voted on *12 March*.",
                               ["https://council.example/minutes"]), actor="editor")
    page.goto(discussion.url())
    note = comment(page, noted["id"]).locator("aside.note")
    expect(note).to_have_count(1)
    expect(note).to_have_attribute("aria-label", "Context")
    expect(note.locator(".note-h")).to_have_text("Context · Added by the editors")
    expect(note.locator(".note-b em")).to_have_text("12 March")
    link = note.locator(".note-src a")
    expect(link).to_have_text("council.example")
    expect(link).to_have_attribute("href", "https://council.example/minutes")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener")
    expect(comment(page, plain["id"]).locator("aside.note")).to_have_count(0)
    # The note sits inside the comment's body, before its actions.
    expect(widget(page).locator(f"#comment-{noted['id']} > article > .body > aside.note")
           ).to_have_count(1)


def test_it_labels_notes_in_the_readers_language(discussion: Discussion, page: Any,
                                                  live_server: Any) -> None:
    noted = discussion.post("Der Rat hat nie abgestimmt.", name="Ana")["comment"]
    NoteService(live_server.services.comments).add_by_staff(
        noted["id"], NoteDraft("Der Rat stimmte am 12. März ab.", []), actor="editor")
    page.goto(discussion.url(lang="de"))
    note = comment(page, noted["id"]).locator("aside.note")
    expect(note.locator(".note-h")).to_have_text("Kontext · Von der Redaktion ergänzt")
    expect(note.locator(".note-src")).to_have_count(0)


def test_a_signed_in_reader_rates_and_proposes_notes(discussion: Discussion, page: Any,
                                                     live_server: Any) -> None:
    secret = live_server.services.accounts.make_secret(discussion.site)
    claim = discussion.post("The ferry was cancelled because of the strike.",
                            name="Ana")["comment"]
    # Another member proposed a note, waiting for ratings.
    proposer = signed(secret, id="member-1", name="Mia")
    waiting = httpx.post(f"{discussion.server_url}/api/comments/{claim['id']}/notes",
                         headers={"Origin": discussion.host.origin, "X-Rostra-SSO": proposer},
                         json={"text": "The operator cited *weather*, not the strike.",
                               "sources": ["https://ferry.example/notice"]})
    assert waiting.status_code == 201, waiting.text
    # Anonymous readers get no Context button.
    page.goto(discussion.url())
    expect(comment(page, claim["id"]).get_by_role("button", name="Context")).to_be_hidden()

    sso = signed(secret, id="member-2", name="Rui")
    page.goto(discussion.url(attrs=f'sso="{html.escape(sso)}"'))
    comment(page, claim["id"]).get_by_role("button", name="Context").click()
    panel = comment(page, claim["id"]).locator("section.nf")
    expect(panel.locator(".nq em")).to_have_text("weather")
    helpful = panel.get_by_role("button", name="Helpful", exact=True)
    helpful.click()
    expect(helpful).to_have_attribute("aria-pressed", "true")
    expect(panel.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "false")
    service = NoteService(live_server.services.comments)
    [rated] = service.list_for_staff(discussion.site, comment_id=claim["id"])
    assert rated["ratings"] == 1

    panel.get_by_role("button", name="Propose note").click()
    expect(panel.locator(".err")).to_have_text("Write the context first.")
    panel.get_by_label("Propose a context note").fill("Both notices are linked below.")
    panel.get_by_label("Sources").fill("https://ferry.example/notice\nhttps://union.example/strike")
    panel.get_by_role("button", name="Propose note").click()
    expect(panel.locator(".ok")).to_contain_text("Your note is shown once readers")
    proposed = [n for n in service.list_for_staff(discussion.site, comment_id=claim["id"])
                if n["text"] == "Both notices are linked below."]
    assert [n["sources"] for n in proposed] == [
        ["https://ferry.example/notice", "https://union.example/strike"]]
    assert proposed[0]["status"] == "proposed" and proposed[0]["shown"] is False


def test_it_marks_a_trusted_authors_comments_as_regular(discussion: Discussion, page: Any,
                                                        live_server: Any) -> None:
    live_server.add_site(discussion.site, [discussion.host.origin],
                         moderation={"trust": {"trusted_after": 1, "regular_badge": True}})
    trusted = discussion.post("I have commented here for years.", name="Ana")["comment"]
    newcomer = discussion.post("First time here.", name="Ben")["comment"]
    ModerationService(live_server.services.comments).decide(
        trusted["id"], StaffAction.APPROVE, actor="editor")
    page.goto(discussion.url(lang="de"))
    expect(comment(page, trusted["id"]).locator(".badge")).to_have_text("Stammleser")
    expect(comment(page, newcomer["id"]).locator(".badge")).to_have_text("")


def test_a_note_added_while_the_page_is_open_shows_at_once(
        discussion: Discussion, page: Any, live_server: Any) -> None:
    noted = discussion.post("The bridge was never inspected.", name="Ana")["comment"]
    page.goto(discussion.url(head=f"<script>{TRACK_STREAMS}</script>"))
    page.wait_for_function("window.__streams.some((s) => s.readyState === 1)")
    NoteService(live_server.services.comments).add_by_staff(
        noted["id"], NoteDraft("It was inspected in *May*.", ["https://city.example/b"]),
        actor="editor")
    note = comment(page, noted["id"]).locator("aside.note")
    expect(note.locator(".note-b em")).to_have_text("May")
    expect(comment(page, noted["id"]).locator(".body")).to_contain_text(
        "The bridge was never inspected.")
