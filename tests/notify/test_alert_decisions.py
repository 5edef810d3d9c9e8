"""Moderator alerts list only what still waits for a moderator, once, in the site's
language: through a real SMTP server, decisions made through the moderation API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx

from rostra.notify import alerts
from tests.notify.conftest import ADMIN_TOKEN, NotifyServer, address, parts

STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
LATER = timedelta(minutes=11)  # past the digests' ten minutes


def listed(message: EmailMessage) -> list[tuple[str, str]]:
    """(reason, author) of each comment an alert lists, from its text part."""
    text, _html = parts(message)
    return re.findall(r"^\[(\w+)\] (\w+) — ", text, re.MULTILINE)


def decide(http: httpx.Client, comment_id: int, action: str) -> None:
    response = http.post(f"/api/moderation/comments/{comment_id}/{action}", headers=STAFF)
    assert response.status_code == 200, response.text


def flag(notify: NotifyServer, http: httpx.Client, site: str, comment_id: int,
         reader: str, reason: str = "abuse") -> None:
    response = http.post(f"/api/comments/{comment_id}/flag", json={"reason": reason},
                         headers=notify.reader(http, site, reader).headers())
    assert response.status_code == 202, response.text


def test_it_leaves_comments_decided_or_answered_before_the_digest_out_of_it(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator = address()
    site = notify.new_site(notifications={
        "moderator_emails": [moderator], "moderator_digest": True,
        "moderator_digest_seconds": 600})
    notify.holds.sites.add(site)
    held = {name: notify.reader(http, site, name).post("/d/", f"Held by {name}")
            .json()["comment"]["id"] for name in ("Spammer", "Rejected", "Approved", "Waiting")}
    notify.holds.sites.discard(site)
    shown = {name: notify.reader(http, site, name).post("/d/", f"Shown by {name}")
             .json()["comment"]["id"] for name in ("Flagged", "Answered", "Removed")}
    for name, comment_id in shown.items():
        flag(notify, http, site, comment_id, f"Reporter{name}")
    decide(http, held["Spammer"], "spam")
    decide(http, held["Rejected"], "reject")
    decide(http, held["Approved"], "approve")
    decide(http, shown["Answered"], "approve")  # stays up; its flags are answered
    decide(http, shown["Removed"], "reject")

    notify.run(notify.worker().run_once(now=datetime.now(UTC) + LATER))
    [digest] = notify.mailbox.to(moderator)
    assert digest["Subject"].startswith("2 comments need moderation")
    assert sorted(listed(digest)) == [("flagged", "Flagged"), ("held", "Waiting")]


def test_it_sends_no_alert_when_every_comment_in_it_was_decided(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator = address()
    site = notify.new_site(notifications={
        "moderator_emails": [moderator], "moderator_digest": True,
        "moderator_digest_seconds": 600})
    notify.holds.sites.add(site)
    spam = notify.reader(http, site, "Eve").post("/n/", "Cheap pills").json()["comment"]["id"]
    notify.holds.sites.discard(site)
    up = notify.reader(http, site, "Ann").post("/n/", "Fine").json()["comment"]["id"]
    flag(notify, http, site, up, "Gus")
    decide(http, spam, "spam")
    decide(http, up, "approve")

    handled = notify.run(notify.worker().run_once(now=datetime.now(UTC) + LATER))
    assert handled >= 1  # the batch was due and taken
    assert notify.mailbox.to(moderator) == []
    # Not sent because there was nothing to say, which is no failure to show staff.
    with notify.live.services.db.read() as conn:
        assert alerts.failed_alerts(conn, site) == []


def test_it_alerts_moderators_of_dsa_notices_and_appeals_until_decided(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator = address()
    site = notify.new_site(notifications={
        "moderator_emails": [moderator], "moderator_digest": True,
        "moderator_digest_seconds": 600})
    worker = notify.worker()
    ana, cy = notify.reader(http, site, "Ana"), notify.reader(http, site, "Cy")
    removed = ana.post("/dsa/", "They should all be chased out").json()["comment"]["id"]
    kept = cy.post("/dsa/", "A harmless remark").json()["comment"]["id"]
    notices = {}
    for comment_id in (removed, kept):
        filed = http.post(f"/api/comments/{comment_id}/notices",
                          headers=notify.reader(http, site, "Ben").headers(), json={
                              "ground": "illegal_or_harmful_speech", "explanation": "Incites hatred.",
                              "good_faith": True})
        assert filed.status_code == 201, filed.text
        notices[comment_id] = filed.json()["notice"]["id"]
    decided = http.post(f"/api/moderation/notices/{notices[kept]}/decision", headers=STAFF,
                        json={"outcome": "no_action"})
    assert decided.status_code == 200, decided.text
    notify.run(worker.run_once(now=datetime.now(UTC) + LATER))
    [digest] = notify.mailbox.to(moderator)
    assert listed(digest) == [("flagged", "Ana")]  # the notice still open
    assert "(DSA notice: " in parts(digest)[0]

    # Removed on the notice, the comment is no longer up; the author's appeal against
    # that is what the next alert is about.
    decided = http.post(f"/api/moderation/notices/{notices[removed]}/decision",
                        headers=STAFF, json={"outcome": "illegal"})
    assert decided.status_code == 200, decided.text
    [statement] = http.get(f"/api/comments/{removed}/statements",
                           headers=ana.headers(removed)).json()["statements"]
    appealed = http.post(f"/api/comments/{removed}/appeal", headers=ana.headers(removed),
                         json={"statement_id": statement["id"],
                               "text": "Only a quotation, clearly marked."})
    assert appealed.status_code == 201, appealed.text
    notify.run(worker.run_once(now=datetime.now(UTC) + 2 * LATER))
    [_, appeal] = notify.mailbox.to(moderator)
    assert listed(appeal) == [("flagged", "Ana")]
    assert "(appeal against a decision)" in parts(appeal)[0]


def test_it_alerts_moderators_when_readers_flags_hold_a_comment(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator = address()
    site = notify.new_site(notifications={"moderator_emails": [moderator]},
                           moderation={"thresholds": {"flags_to_hold": 2}})
    worker = notify.worker()
    cid = notify.reader(http, site, "Fay").post("/f/", "Report me").json()["comment"]["id"]
    flag(notify, http, site, cid, "Gus", "abuse")
    notify.run(worker.run_once())
    [first] = notify.mailbox.to(moderator)
    assert listed(first) == [("flagged", "Fay")]

    flag(notify, http, site, cid, "Hal", "spam")  # the second flag hides it
    notify.run(worker.run_once())
    [_, hold] = notify.mailbox.to(moderator)
    assert listed(hold) == [("held", "Fay")]
    text, _html = parts(hold)
    assert "(abuse, spam; 2 flags)" in text  # why it was hidden
    assert f"/admin/?site={site}&comment={cid}" in text


def test_it_lists_a_comment_flagged_and_held_within_one_digest_once(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator = address()
    site = notify.new_site(
        notifications={"moderator_emails": [moderator], "moderator_digest": True,
                       "moderator_digest_seconds": 600},
        moderation={"thresholds": {"flags_to_hold": 2}})
    cid = notify.reader(http, site, "Fay").post("/g/", "Report me").json()["comment"]["id"]
    flag(notify, http, site, cid, "Gus")
    flag(notify, http, site, cid, "Hal")

    notify.run(notify.worker().run_once(now=datetime.now(UTC) + LATER))
    [digest] = notify.mailbox.to(moderator)
    assert digest["Subject"].startswith("A comment needs moderation")
    assert listed(digest) == [("held", "Fay")]
    assert "(abuse; 2 flags)" in parts(digest)[0]


def test_it_alerts_moderators_in_the_sites_language(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator, english = address(), address()
    site = notify.new_site(languages=["de"], notifications={"moderator_emails": [moderator]})
    other = notify.new_site(languages=["tlh"], notifications={"moderator_emails": [english]})
    notify.holds.sites.update({site, other})
    notify.reader(http, site, "Eve").post("/l/", "Bitte prüfen")
    notify.reader(http, other, "Eve").post("/l/", "Please check")
    notify.run(notify.worker().run_once())

    [alert] = notify.mailbox.to(moderator)
    assert alert["Subject"].startswith("Ein Kommentar wartet auf Moderation")
    assert alert["Content-Language"] == "de"
    assert listed(alert) == [("zurückgehalten", "Eve")]
    text, html = parts(alert)
    assert "In der Moderationsliste öffnen" in text and '<html lang="de" dir="ltr">' in html
    # A language without a catalog: English.
    [fallback] = notify.mailbox.to(english)
    assert fallback["Subject"].startswith("A comment needs moderation")
    assert fallback["Content-Language"] == "en"
