"""Emails and the pages they link to speak the reader's language: every language the
widget speaks, right to left where the language is written so, and an email says the
language it is written in (one in English must not be labelled with another). A real
server, a real SMTP server, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from string import Formatter

import httpx
import pytest
from lxml import html as lxml_html

from rostra.notify.templates import TEMPLATES, languages
from rostra.widget import build as widget
from tests.notify.conftest import NotifyServer, address, confirm_address, link, parts
from tests.notify.test_dsa_mail import STAFF
from tests.notify.test_email_flow import deliver, subscribed


def words(lang: str) -> dict[str, str]:
    found: dict[str, str] = json.loads((TEMPLATES / "i18n" / f"{lang}.json").read_text("utf-8"))
    return found


def placeholders(text: str) -> list[str]:
    return sorted(name for _lit, name, _spec, _conv in Formatter().parse(text) if name is not None)


def direction(html: str) -> tuple[str | None, str | None]:
    """(lang, dir) of a document's <html> element."""
    root = lxml_html.document_fromstring(html.encode())
    return root.get("lang"), root.get("dir")


def test_emails_speak_every_language_the_widget_speaks() -> None:
    assert set(languages()) == set(widget.languages())


@pytest.mark.parametrize("lang", languages())
def test_each_catalog_has_the_english_keys_with_the_same_placeholders(lang: str) -> None:
    english, own = words("en"), words(lang)
    assert own.keys() == english.keys(), (
        f"missing {sorted(english.keys() - own.keys())}, unknown {sorted(own.keys() - english.keys())}")
    assert own["lang"] == lang
    for key, text in english.items():
        assert placeholders(own[key]) == placeholders(text), f"{lang}.json: {key}"
    if lang != "en":  # a sentence left in English is a sentence not translated
        untranslated = [k for k, text in english.items() if len(text) > 12 and own[k] == text]
        assert not untranslated, f"{lang}.json: {untranslated}"


QUOTES = {"de": "„{title}“", "fr": "« {title} »", "ru": "«{title}»", "uk": "«{title}»",
          "pl": "„{title}”", "sk": "„{title}“", "ja": "「{title}」"}


@pytest.mark.parametrize("lang", sorted(QUOTES))
def test_titles_stand_in_the_quotation_marks_of_the_language(lang: str) -> None:
    assert QUOTES[lang] in words(lang)["digest_subject_one"]


def _confirmation(notify: NotifyServer, http: httpx.Client, site: str, mail: str,
                  accept_language: str) -> EmailMessage:
    notify.subscribe(http, site, "/artykul/", mail, headers={"Accept-Language": accept_language})
    deliver(notify, later=False)
    [ask] = notify.mailbox.to(mail)
    return ask


def test_a_polish_browser_gets_its_confirmation_in_polish(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    ask = _confirmation(notify, http, site, mail, "pl-PL,pl;q=0.9,en;q=0.5")
    text, html = parts(ask)
    assert ask["Subject"].startswith("Prosimy o potwierdzenie subskrypcji")
    assert ask["Content-Language"] == "pl"
    assert "Potwierdź subskrypcję" in text
    assert direction(html) == ("pl", "ltr")


def test_an_arabic_browser_gets_its_confirmation_in_arabic_right_to_left(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    ask = _confirmation(notify, http, site, mail, "ar")
    text, html = parts(ask)
    assert ask["Subject"] == words("ar")["confirm_subject"].format(site=site.title())
    assert ask["Content-Language"] == "ar"
    assert words("ar")["confirm_action"] in text
    assert direction(html) == ("ar", "rtl")
    page = http.get(link(ask, "/notify/confirm"))
    assert direction(page.text) == ("ar", "rtl")


def test_a_hebrew_readers_digest_and_subscriptions_page_read_right_to_left(
    notify: NotifyServer, http: httpx.Client
) -> None:
    # The digest's language is the one stored with the subscription.
    site, mail = notify.new_site(), address()
    subscribed(notify, http, site, "/maamar/", mail, headers={"Accept-Language": "he-IL"})
    assert notify.reader(http, site, "Ben").post("/maamar/", "שלום").status_code == 201
    deliver(notify)
    digest = notify.mailbox.to(mail)[-1]
    text, html = parts(digest)
    assert digest["Content-Language"] == "he"
    assert words("he")["why_thread"] in text
    assert direction(html) == ("he", "rtl")

    manage = http.get(link(digest, "/notify/manage"))
    assert manage.status_code == 200
    assert direction(manage.text) == ("he", "rtl")
    assert words("he")["page_manage_title"] in manage.text


def test_a_sites_dsa_emails_and_statement_page_are_in_its_first_language(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(languages=["uk", "en"]), address()
    posted = notify.reader(http, site).post("/stattia/", "Коментар, який буде видалено.",
                                            email=mail).json()
    removed = http.post(f"/api/moderation/comments/{posted['comment']['id']}/reject",
                        headers=STAFF, json={"reason": "Образа"})
    assert removed.status_code == 200
    notify.run(notify.worker().run_once())
    [statement] = notify.mailbox.to(mail)
    uk = words("uk")
    assert statement["Subject"] == uk["dsa_statement_subject_removal"].format(site=site.title())
    text, html = parts(statement)
    assert uk["dsa_automated_no"] in text and "Образа" in text
    assert direction(html) == ("uk", "ltr")
    page = http.get(link(statement, "/dsa/statement"))
    assert direction(page.text) == ("uk", "ltr") and uk["dsa_page_title"] in page.text


def test_a_site_in_a_regional_language_gets_the_languages_catalog(
    notify: NotifyServer, http: httpx.Client
) -> None:
    """A site whose first language is regional (pt-BR, as the site form accepts) gets the
    Portuguese catalog for its DSA emails and pages, not English."""
    site, mail = notify.new_site(languages=["pt-BR"]), address()
    posted = notify.reader(http, site).post("/artigo/", "Um comentário a remover.",
                                            email=mail).json()
    removed = http.post(f"/api/moderation/comments/{posted['comment']['id']}/reject",
                        headers=STAFF, json={"reason": "Insulto"})
    assert removed.status_code == 200
    notify.run(notify.worker().run_once())
    [statement] = notify.mailbox.to(mail)
    pt = words("pt")
    assert statement["Subject"] == pt["dsa_statement_subject_removal"].format(site=site.title())
    assert statement["Content-Language"] == "pt"
    page = http.get(link(statement, "/dsa/statement"))
    assert direction(page.text) == ("pt", "ltr") and pt["dsa_page_title"] in page.text


def test_a_dsa_email_says_its_language(notify: NotifyServer, http: httpx.Client) -> None:
    site, mail = notify.new_site(languages=["pl"]), address()
    posted = notify.reader(http, site).post("/x/", "Do usunięcia.", email=mail).json()
    http.post(f"/api/moderation/comments/{posted['comment']['id']}/reject", headers=STAFF,
              json={"reason": "Obraza"})
    notify.run(notify.worker().run_once())
    [statement] = notify.mailbox.to(mail)
    assert statement["Content-Language"] == "pl"


def test_an_email_falling_back_to_english_says_english(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    notify.subscribe(http, site, "/artikkeli/", mail, language="fi")  # no Finnish words
    deliver(notify, later=False)
    [ask] = notify.mailbox.to(mail)
    assert ask["Subject"].startswith("Please confirm")
    assert ask["Content-Language"] == "en"
    assert direction(parts(ask)[1]) == ("en", "ltr")
    confirm_address(http, ask)

    assert notify.reader(http, site, "Ben").post("/artikkeli/", "Hei").status_code == 201
    deliver(notify)
    digest = notify.mailbox.to(mail)[-1]
    assert re.search(r"\bHei\b", parts(digest)[0]) and digest["Content-Language"] == "en"
