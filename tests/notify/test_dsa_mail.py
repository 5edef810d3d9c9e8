"""The DSA emails through a real SMTP server: the notifier's receipt and decision, the
author's statement of reasons with its appeal link, and the appeal's outcome to both."""

from __future__ import annotations

import secrets

import httpx
from lxml import html as lxml_html

from tests.admin.conftest import _member
from tests.notify.conftest import ADMIN_TOKEN, NotifyServer, address, link, parts

STAFF = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_it_mails_receipt_statement_and_appeal_outcome_to_both_sides(
    notify: NotifyServer, http: httpx.Client,
) -> None:
    site = notify.new_site()
    author_mail, notifier_mail = address(), address()
    ana = notify.reader(http, site, "Ana")
    posted = ana.post("/war/", "They all deserve to be chased out of the country.",
                      email=author_mail)
    comment_id = posted.json()["comment"]["id"]
    ben = notify.reader(http, site, "Ben")
    receipt = http.post(f"/api/comments/{comment_id}/notices", headers=ben.headers(), json={
        "ground": "illegal_or_harmful_speech", "explanation": "Incitement against refugees.",
        "name": "Ben", "email": notifier_mail, "good_faith": True})
    assert receipt.status_code == 201, receipt.text
    notice_id = receipt.json()["notice"]["id"]
    worker = notify.worker()
    notify.run(worker.run_once())
    [got] = notify.mailbox.to(notifier_mail)
    text, _html = parts(got)
    assert f"#{notice_id}" in got["Subject"] and "Illegal hate speech" in text

    decided = http.post(f"/api/moderation/notices/{notice_id}/decision", headers=STAFF,
                        json={"outcome": "illegal", "reason": "Incites hatred"})
    assert decided.status_code == 200, decided.text
    notify.run(worker.run_once())
    [_receipt, decision] = notify.mailbox.to(notifier_mail)
    assert "removed as illegal content" in parts(decision)[0]
    [statement_mail] = notify.mailbox.to(author_mail)
    text, _html = parts(statement_mail)
    assert statement_mail["Subject"].endswith("was removed")
    assert "Incites hatred" in text and "A person took this decision" in text
    assert notifier_mail not in text and "Ben" not in text  # the notifier stays unnamed
    assert "chased out" in text  # the comment it is about

    # The link leads to the statement and its appeal form.
    page = http.get(link(statement_mail, "/dsa/statement"))
    assert page.status_code == 200
    form = lxml_html.fromstring(page.text).xpath('//form[@id="appeal"]')[0]
    token = form.xpath('.//input[@name="token"]/@value')[0]
    sent = http.post("/dsa/statement", data={
        "token": token, "text": "I only quoted what a politician said on TV."})
    assert sent.status_code == 200 and 'id="thanks"' in sent.text

    # A moderator other than the one who decided takes the appeal.
    other = _member(notify.live, f"mod-{secrets.token_hex(4)}", roles={site: "moderator"})
    statement_id = http.get("/api/moderation/appeals", params={"site": site},
                            headers=STAFF).json()["appeals"][0]["id"]
    reversed_ = other.http.post(
        f"/api/moderation/statements/{statement_id}/appeal-decision",
        headers={"X-CSRF-Token": other.csrf},
        json={"outcome": "reversed", "reason": "A quotation, clearly marked as one"})
    assert reversed_.status_code == 200, reversed_.text
    assert comment_id in [c["id"] for c in ana.page("/war/")["comments"]]
    notify.run(worker.run_once())
    outcome = notify.mailbox.to(author_mail)[-1]
    assert "reversed the decision" in parts(outcome)[0]
    told = notify.mailbox.to(notifier_mail)[-1]
    assert f"#{notice_id}" in told["Subject"] and "published again" in parts(told)[0]
    other.http.close()


def test_it_sends_no_statement_for_a_hold_at_posting_or_for_spam(
    notify: NotifyServer, http: httpx.Client,
) -> None:
    site = notify.new_site()
    mail = address()
    notify.holds.sites.add(site)
    held = notify.reader(http, site).post("/quiet/", "Held at posting", email=mail).json()
    notify.holds.sites.discard(site)
    published = notify.reader(http, site).post("/quiet/", "Spam later", email=mail).json()
    http.post(f"/api/moderation/comments/{published['comment']['id']}/spam", headers=STAFF)
    notify.run(notify.worker().run_once())
    assert notify.mailbox.to(mail) == []
    assert held["comment"]["state"] == "pending"


def test_it_writes_to_the_author_in_the_sites_language(
    notify: NotifyServer, http: httpx.Client,
) -> None:
    site = notify.new_site(languages=["de"])
    mail = address()
    posted = notify.reader(http, site).post("/de/", "Ein Kommentar, der entfernt wird.",
                                            email=mail).json()
    removed = http.post(f"/api/moderation/comments/{posted['comment']['id']}/reject",
                        headers=STAFF, json={"reason": "Beleidigung"})
    assert removed.status_code == 200
    notify.run(notify.worker().run_once())
    [statement] = notify.mailbox.to(mail)
    assert statement["Subject"].startswith("Ihr Kommentar auf")
    text, _html = parts(statement)
    assert "Ein Mensch hat diese Entscheidung getroffen" in text and "Beleidigung" in text
    page = http.get(link(statement, "/dsa/statement"))
    assert page.status_code == 200 and "Begründung der Entscheidung" in page.text
    assert '<html lang="de" dir="ltr">' in page.text


def test_the_statement_by_email_names_the_sites_redress(
    notify: NotifyServer, http: httpx.Client,
) -> None:
    # dsa.redress is "shown with every statement" (Art. 17(3)(f)): the widget and the
    # statement page showed it, the emailed statement (most authors' only copy) did not.
    body = "User Rights GmbH, www.user-rights.org"
    site = notify.new_site(moderation={"dsa": {"redress": body}})
    mail = address()
    posted = notify.reader(http, site).post("/redress/", "A comment a moderator removes.",
                                            email=mail).json()
    removed = http.post(f"/api/moderation/comments/{posted['comment']['id']}/reject",
                        headers=STAFF, json={"reason": "Off-topic"})
    assert removed.status_code == 200
    notify.run(notify.worker().run_once())
    [statement] = notify.mailbox.to(mail)
    text, html = parts(statement)
    assert body in text and body in html


def test_a_moderators_removal_of_a_comment_automated_checks_held_says_they_detected_it(
    notify: NotifyServer, http: httpx.Client,
) -> None:
    # Art. 17(3)(c), 15(1)(c): the statement and the figures say whether automated means
    # detected the content. A moderator removing a comment the checks held recorded
    # automated_detection false, and the email said no automated means were used.
    site = notify.new_site()
    mail = address()
    ana = notify.reader(http, site)
    notify.holds.sites.add(site)
    held = ana.post("/held/", "A comment the automated checks hold for review.", email=mail)
    notify.holds.sites.discard(site)
    comment_id = held.json()["comment"]["id"]
    removed = http.post(f"/api/moderation/comments/{comment_id}/reject", headers=STAFF,
                        json={"reason": "Abusive"})
    assert removed.status_code == 200, removed.text
    decided, hold = http.get(f"/api/comments/{comment_id}/statements",
                             headers=ana.headers(comment_id)).json()["statements"]
    assert (hold["source"], hold["automated_detection"]) == ("automated", True)
    assert decided["source"] == "moderator"
    assert (decided["automated_detection"], decided["automated_decision"]) == (True, False)
    figures = http.get("/api/moderation/transparency", params={"site": site},
                       headers=STAFF).json()["decisions"]
    assert (figures["automated_detection"], figures["automated_decision"]) == (2, 1)
    notify.run(notify.worker().run_once())
    [statement] = notify.mailbox.to(mail)
    text, _html = parts(statement)
    assert "Automated means detected this comment; a person took this decision" in text
    page = http.get(link(statement, "/dsa/statement"))
    assert "Automated means detected this comment" in page.text


def test_a_notifier_told_the_comment_stays_can_complain_by_the_emailed_link(
    notify: NotifyServer, http: httpx.Client,
) -> None:
    # Art. 20(1): notifiers have the complaint right too. Told "the comment stays",
    # Ben had no way to complain; now the decision's email links to the form, and
    # both he and, on a reversal, the author hear the outcome.
    site = notify.new_site()
    author_mail, notifier_mail = address(), address()
    ana = notify.reader(http, site, "Ana")
    posted = ana.post("/war/", "They all deserve to be chased out of the country.",
                      email=author_mail)
    comment_id = posted.json()["comment"]["id"]
    ben = notify.reader(http, site, "Ben")
    notice_id = http.post(f"/api/comments/{comment_id}/notices", headers=ben.headers(), json={
        "ground": "illegal_or_harmful_speech", "explanation": "Incitement against refugees.",
        "email": notifier_mail, "good_faith": True}).json()["notice"]["id"]
    decided = http.post(f"/api/moderation/notices/{notice_id}/decision", headers=STAFF,
                        json={"outcome": "no_action", "reason": "Harsh, not unlawful"})
    assert decided.status_code == 200, decided.text
    worker = notify.worker()
    notify.run(worker.run_once())
    decision = notify.mailbox.to(notifier_mail)[-1]
    assert "complain once" in parts(decision)[0]
    page = http.get(link(decision, "/dsa/notice"))
    assert page.status_code == 200
    form = lxml_html.fromstring(page.text).xpath('//form[@id="complaint"]')[0]
    token = form.xpath('.//input[@name="token"]/@value')[0]
    sent = http.post("/dsa/notice", data={
        "token": token, "text": "It calls for expelling a whole group of people."})
    assert sent.status_code == 200 and 'id="thanks"' in sent.text

    other = _member(notify.live, f"mod-{secrets.token_hex(4)}", roles={site: "moderator"})
    reversed_ = other.http.post(
        f"/api/moderation/notices/{notice_id}/complaint-decision",
        headers={"X-CSRF-Token": other.csrf},
        json={"outcome": "reversed", "reason": "A call to expel a group"})
    assert reversed_.status_code == 200, reversed_.text
    other.http.close()
    notify.run(worker.run_once())
    told = notify.mailbox.to(notifier_mail)[-1]
    assert f"#{notice_id}" in told["Subject"] and "the comment was removed" in parts(told)[0]
    [statement] = notify.mailbox.to(author_mail)
    text, _html = parts(statement)
    assert statement["Subject"].endswith("was removed") and "A call to expel a group" in text


def test_a_notifier_whose_comment_was_deleted_meanwhile_is_told_so(
    notify: NotifyServer, http: httpx.Client,
) -> None:
    # "The comment stays" was the only decision possible on a deleted comment.
    site = notify.new_site()
    notifier_mail = address()
    comment_id = notify.reader(http, site).post("/gone/", "A comment deleted later.").json()[
        "comment"]["id"]
    ben = notify.reader(http, site, "Ben")
    notice_id = http.post(f"/api/comments/{comment_id}/notices", headers=ben.headers(), json={
        "ground": "illegal_or_harmful_speech", "explanation": "Incitement against refugees.",
        "email": notifier_mail, "good_faith": True}).json()["notice"]["id"]
    assert http.post(f"/api/moderation/comments/{comment_id}/delete",
                     headers=STAFF).status_code == 200
    decided = http.post(f"/api/moderation/notices/{notice_id}/decision", headers=STAFF,
                        json={"outcome": "unavailable"})
    assert decided.status_code == 200, decided.text
    notify.run(notify.worker().run_once())
    text = parts(notify.mailbox.to(notifier_mail)[-1])[0]
    assert "no longer available" in text and "stays" not in text
    assert "/dsa/notice" not in text  # nothing to complain about


def test_mails_to_the_notifier_call_the_comment_the_reported_one_not_theirs(
    notify: NotifyServer, http: httpx.Client,
) -> None:
    # Every DSA email labelled the quoted comment "Your comment": the notifier's receipt
    # and decision too, though the notifier did not write it.
    site = notify.new_site()
    author_mail, notifier_mail = address(), address()
    posted = notify.reader(http, site, "Ana").post(
        "/label/", "A comment somebody reports.", email=author_mail).json()
    comment_id = posted["comment"]["id"]
    ben = notify.reader(http, site, "Ben")
    notice_id = http.post(f"/api/comments/{comment_id}/notices", headers=ben.headers(), json={
        "ground": "illegal_or_harmful_speech", "explanation": "Incitement against refugees.",
        "email": notifier_mail, "good_faith": True}).json()["notice"]["id"]
    worker = notify.worker()
    notify.run(worker.run_once())
    decided = http.post(f"/api/moderation/notices/{notice_id}/decision", headers=STAFF,
                        json={"outcome": "illegal", "reason": "Incites hatred"})
    assert decided.status_code == 200, decided.text
    notify.run(worker.run_once())
    receipt, decision = notify.mailbox.to(notifier_mail)
    for mail in (receipt, decision):
        for part in parts(mail):
            assert "somebody reports" in part
            assert "The comment you reported" in part and "Your comment" not in part
    [statement] = notify.mailbox.to(author_mail)
    for part in parts(statement):
        assert "Your comment" in part and "The comment you reported" not in part
