"""Moderation as the author meets it: proof of work, the "reconsider" nudge, reports."""

from __future__ import annotations

import json
import secrets
from typing import Any

import altcha
import pytest
from widget_page import Discussion, HostSite, comment, expect, widget

pytestmark = pytest.mark.browser


def top_form(page: Any) -> Any:
    return widget(page).locator(".fs form")


def posted_bodies(page: Any) -> list[dict[str, Any]]:
    """The JSON bodies of the page's comment POSTs, as they leave the browser."""
    bodies: list[dict[str, Any]] = []
    page.on("request", lambda r: bodies.append(r.post_data_json)
            if r.method == "POST" and r.url.endswith("/api/comments") else None)
    return bodies


@pytest.fixture
def pow_discussion(live_server: Any, host_site: HostSite) -> Discussion:
    """A site whose moderation policy asks every post for a proof of work."""
    site = "wpow-" + secrets.token_hex(4)
    live_server.add_site(site, [host_site.origin],
                         moderation={"pow": {"mode": "always", "difficulty": 5000}})
    return Discussion(live_server.url.rstrip("/"), host_site, site, f"/news/{site}/story/")


def write(page: Any, text: str) -> Any:
    form = top_form(page)
    form.get_by_label("Comment").fill(text)
    form.get_by_label("Name").fill("Kim")
    form.get_by_role("button", name="Post comment").click()
    return form


def test_it_solves_the_proof_of_work_a_site_requires(pow_discussion: Discussion, page: Any) -> None:
    bodies = posted_bodies(page)
    page.goto(pow_discussion.url())
    write(page, "Worked for this one.")
    expect(widget(page).locator("ol.list > li .body")).to_have_text("Worked for this one.")
    assert len(bodies) == 1 and bodies[0]["pow"]


# ALTCHA challenges of every kind Web Crypto can derive, as ALTCHA's library makes them:
# (algorithm, cost, counter or None for a fixed prefix, key length, prefix).
ALTCHA_KINDS = [
    ("SHA-256", 3, 700, 32, None), ("SHA-384", 1, 300, 20, None), ("SHA-512", 2, 0, 32, None),
    ("PBKDF2/SHA-256", 50, 90, 32, None), ("PBKDF2/SHA-512", 20, 40, 32, None),
    ("SHA-256", 1, None, 32, "0a1"),
]


def test_it_solves_altcha_challenges_the_altcha_library_verifies(
    pow_discussion: Discussion, page: Any
) -> None:
    # The widget's solver, in Chromium, against challenges made by the ALTCHA library;
    # the library checks each answer. The first is the server's own, from /api/pow.
    page.goto(pow_discussion.url())
    expect(widget(page).locator(".fs form")).to_be_visible()
    own = page.evaluate("async (url) => (await fetch(url)).json()",
                        f"{pow_discussion.server_url}/api/pow?site={pow_discussion.site}")
    challenges = [{"parameters": own["parameters"], "signature": own["signature"]}]
    for algorithm, cost, counter, length, prefix in ALTCHA_KINDS:
        made = altcha.create_challenge(algorithm, cost, counter=counter, key_length=length,
                                       key_prefix=prefix or "00", hmac_secret="shared")
        challenges.append(made.to_dict())
    answers = page.evaluate(
        """async ([url, challenges]) => {
             const { solveChallenge } = await import(url);
             const out = [];
             for (const c of challenges) out.push(await solveChallenge(c));
             return out;
           }""",
        [f"{pow_discussion.server_url}/widget/any/pow.js", challenges])
    own_answer, *others = answers
    assert all(altcha.verify_solution(a, "shared").verified for a in others)
    for (_, _, counter, _, _), answer in zip(ALTCHA_KINDS, others, strict=True):
        if counter is not None:
            assert altcha.Payload.from_base64(answer).solution.counter == counter
    # The server's own challenge: the server holds its key, and takes the post.
    posted = page.evaluate(
        """async ([url, body]) => (await fetch(url, {method: "POST", body: JSON.stringify(body),
             headers: {"Content-Type": "application/json"}})).status""",
        [f"{pow_discussion.server_url}/api/comments",
         {"site": pow_discussion.site, "thread": pow_discussion.thread, "name": "Kim",
          "text": "Solved by hand.", "pow": own_answer}])
    assert posted == 201


def test_it_tries_once_more_when_the_server_refuses_the_proof_of_work(
    pow_discussion: Discussion, page: Any
) -> None:
    # The first challenge claims none is needed, so the first post goes without an
    # answer; the server refuses it (pow_required) and the widget solves a fresh one.
    asked: list[str] = []

    def first_says_not_required(route: Any) -> None:
        if asked:
            route.continue_()
            return
        asked.append(route.request.url)
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "required": False})

    page.route("**/api/pow?*", first_says_not_required)
    bodies = posted_bodies(page)
    page.goto(pow_discussion.url())
    write(page, "Second time lucky.")
    expect(widget(page).locator("ol.list > li .body")).to_have_text("Second time lucky.")
    assert [bool(b.get("pow")) for b in bodies] == [False, True]


def nudge(detail: str) -> dict[str, Any]:
    return {
        "status": 422,
        "headers": {"Content-Type": "application/problem+json", "Access-Control-Allow-Origin": "*"},
        "body": json.dumps({"type": "https://rostra.dev/problems/comment_refused",
                            "title": "Comment refused", "status": 422, "detail": detail,
                            "code": "comment_refused", "reasons": ["nudge"]}),
    }


def test_it_asks_to_reconsider_and_sends_anyway_when_told(discussion: Discussion, page: Any) -> None:
    # The real classifier is slow to load: the server's nudge is played by the network.
    detail = "Your comment may come across as hurtful. Would you like to rephrase it?"
    bodies: list[dict[str, Any]] = []

    def nudge_unless_acknowledged(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        body = route.request.post_data_json
        bodies.append(body)
        if body.get("nudge_acknowledged"):
            route.continue_()
        else:
            route.fulfill(**nudge(detail))

    page.route("**/api/comments", nudge_unless_acknowledged)
    page.goto(discussion.url())
    form = write(page, "You are all wrong about the bridge.")
    box = form.locator(".nudge")
    expect(box).to_contain_text(detail)
    # "Edit" goes back to the text, which is kept
    box.get_by_role("button", name="Edit").click()
    expect(form.get_by_label("Comment")).to_be_focused()
    expect(box).to_be_hidden()
    form.get_by_label("Comment").fill("I think you are wrong about the bridge.")
    form.get_by_role("button", name="Post comment").click()
    expect(box).to_contain_text(detail)
    box.get_by_role("button", name="Send anyway").click()
    expect(widget(page).locator("ol.list > li .body")).to_have_text("I think you are wrong about the bridge.")
    assert [b.get("nudge_acknowledged", False) for b in bodies] == [False, False, True]


def test_it_reports_a_comment_to_the_moderators(discussion: Discussion, page: Any) -> None:
    spam = discussion.post("Cheap watches at example.com", name="Spammer")["comment"]["id"]
    page.goto(discussion.url())
    write(page, "My own words.")
    own = widget(page).locator("ol.list > li").first
    expect(own.locator(".body")).to_have_text("My own words.")
    expect(own.get_by_role("button", name="Report")).to_be_hidden()  # not one's own
    item = comment(page, spam)
    item.get_by_role("button", name="Report").click()
    item.get_by_role("button", name="Send report").click()
    expect(item.get_by_role("alert")).to_have_text("Please choose a reason.")
    item.get_by_label("Spam").check()
    with page.expect_response(lambda r: r.url.endswith(f"/api/comments/{spam}/flag")) as answer:
        item.get_by_role("button", name="Send report").click()
    assert answer.value.status == 202
    expect(item.locator(".ok")).to_have_text("Thanks, a moderator will look at it.")
    expect(item.locator(".ok")).to_be_focused()
    expect(item.get_by_role("button", name="Report")).to_be_hidden()
