"""The new-comment form leads with its text box: the reader's name, email, sign-in,
"Notify of" and the buttons unfold once the reader writes or asks for them."""

from __future__ import annotations

import html
import json
from typing import Any

import pytest
from test_widget_accessibility import audit
from test_widget_notify import mail_discussion, mail_server  # noqa: F401 (fixtures)
from tests.api.test_sso import signed
from widget_page import Discussion, comment, expect, widget

pytestmark = pytest.mark.browser


def top_form(page: Any) -> Any:
    return widget(page).locator(".fs form")


def test_it_shows_the_text_box_first_and_unfolds_the_rest_on_focus(
    discussion: Discussion, page: Any
) -> None:
    first = discussion.post("The first comment", name="Ida")["comment"]["id"]
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(discussion.url())
    form = top_form(page)
    text = form.get_by_label("Comment")
    expect(text).to_be_visible()
    expect(text).to_have_attribute("placeholder", "Leave a comment")
    unfold = form.get_by_role("button", name="Name and email")
    expect(unfold).to_have_attribute("aria-expanded", "false")
    for hidden in (form.get_by_label("Name"), form.get_by_label("Email"),
                   form.get_by_role("button", name="Post comment"), form.locator(".hint")):
        expect(hidden).to_be_hidden()
    # on a phone the folded form is one short box (unfolded, it was 373 px tall) and
    # the first comment starts 237 px below the heading (it was 532 px)
    expect(comment(page, first)).to_be_visible()
    assert form.bounding_box()["height"] < 100
    heading = widget(page).locator("h2").bounding_box()
    assert comment(page, first).bounding_box()["y"] - heading["y"] < 260
    text.focus()
    for shown in (form.get_by_label("Name"), form.get_by_label("Email"),
                  form.get_by_role("button", name="Post comment")):
        expect(shown).to_be_visible()
    # its work done, the button goes (the form does not fold again)
    expect(unfold).to_have_count(0)
    expect(form.locator(".unf")).to_have_attribute("aria-expanded", "true")
    expect(text).to_be_focused()


def test_its_button_unfolds_the_fields_and_moves_into_them(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url())
    form = top_form(page)
    form.get_by_role("button", name="Name and email").click()
    expect(form.get_by_label("Name")).to_be_focused()
    page.keyboard.type("Jo")
    page.keyboard.press("Shift+Tab")  # back up to the text box: nothing traps the focus
    expect(form.get_by_label("Comment")).to_be_focused()
    page.keyboard.type("Asked for the fields first.")
    page.keyboard.press("Control+Enter")
    expect(widget(page).locator("ol.list > li .au")).to_have_text("Jo")


def test_it_unfolds_while_a_draft_waits(discussion: Discussion, page: Any) -> None:
    page.goto(discussion.url())
    top_form(page).get_by_label("Comment").fill("Half a thought")
    page.reload()
    form = top_form(page)
    expect(form.get_by_label("Comment")).to_have_value("Half a thought")
    expect(form.get_by_label("Name")).to_be_visible()


def test_a_field_error_from_the_server_shows_and_focuses_the_field(
    discussion: Discussion, page: Any
) -> None:
    # the address remembered from an earlier visit is one the server refuses
    author = json.dumps({"name": "Typo", "email": "typo@nowhere"})
    page.add_init_script(f"localStorage.setItem('rostra:author', {json.dumps(author)})")
    page.goto(discussion.url())
    form = top_form(page)
    email = form.get_by_label("Email")
    expect(form.get_by_label("Comment")).to_be_visible()  # rendered, and folded:
    expect(email).to_have_value("typo@nowhere")
    expect(email).to_be_hidden()
    form.get_by_label("Comment").press_sequentially("Hello there")
    page.keyboard.press("Control+Enter")
    expect(email).to_be_visible()
    expect(email).to_be_focused()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(
        "Please enter a valid email address, or leave the field empty.")


def test_a_signed_in_reader_sees_no_identity_fields(
    discussion: Discussion, page: Any, live_server: Any
) -> None:
    secret = live_server.services.accounts.make_secret(discussion.site)
    # an account without an address: the server would ignore one typed here anyway
    sso = signed(secret, id="member-9", name="Noa Member")
    page.goto(discussion.url(attrs=f'sso="{html.escape(sso)}"'))
    form = top_form(page)
    unfold = form.get_by_role("button", name="Signed in as Noa Member")
    expect(unfold).to_have_attribute("aria-expanded", "false")
    form.get_by_label("Comment").fill("As a member.")
    expect(form.get_by_role("button", name="Post comment")).to_be_visible()
    expect(form.locator("input")).to_have_count(0)
    form.get_by_role("button", name="Post comment").click()
    expect(widget(page).locator("ol.list > li .au")).to_have_text("Noa Member")


def test_a_reply_form_opens_unfolded(discussion: Discussion, page: Any) -> None:
    parent = discussion.post("When does the bridge open?", name="Eli")["comment"]["id"]
    page.goto(discussion.url())
    comment(page, parent).get_by_role("button", name="Reply").click()
    reply = comment(page, parent).locator("form")
    expect(reply.get_by_label("Reply to Eli")).to_be_focused()
    expect(reply.get_by_label("Name")).to_be_visible()
    expect(reply.get_by_role("button", name="Post reply")).to_be_visible()
    expect(reply.get_by_role("button", name="Name and email")).to_have_count(0)


def test_notify_of_stays_folded_with_the_form(
    mail_discussion: Discussion, page: Any  # noqa: F811
) -> None:
    page.goto(mail_discussion.url())
    bar = widget(page).locator("form.nb")
    expect(bar).to_have_count(1)
    expect(bar).to_be_hidden()
    top_form(page).get_by_label("Comment").focus()
    expect(bar.get_by_label("Notify of")).to_be_visible()


@pytest.mark.parametrize(("theme", "lang"), [("light", "en"), ("dark", "en"), ("dark", "ar")])
def test_it_passes_an_axe_audit_folded_and_unfolded(
    discussion: Discussion, page: Any, axe_source: str, theme: str, lang: str
) -> None:
    discussion.post("A view", name="Ida")
    page.goto(discussion.url(attrs=f'theme="{theme}"', lang=lang))
    form = top_form(page)
    expect(widget(page).locator("ol.list > li")).to_have_count(1)
    expect(form.locator(".unf[aria-expanded=false]")).to_be_visible()
    assert audit(page, axe_source) == []
    form.locator("textarea").focus()
    expect(form.locator("[name=name]")).to_be_visible()
    assert audit(page, axe_source) == []
