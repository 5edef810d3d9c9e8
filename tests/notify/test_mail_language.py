"""An email says the language it is written in. The widget asks for its own language
(en, de, fr, es, ru, sk, uk, ko); emails exist in fewer, and one in English must not be
labelled Russian. A real server, a real SMTP server, SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.notify.conftest import NotifyServer, address, confirm_address, parts
from tests.notify.test_email_flow import deliver


def test_an_email_falling_back_to_english_says_english(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site, mail = notify.new_site(), address()
    notify.subscribe(http, site, "/statya/", mail, language="ru")  # as the Russian widget
    deliver(notify, later=False)
    [ask] = notify.mailbox.to(mail)
    assert ask["Subject"].startswith("Please confirm")
    assert ask["Content-Language"] == "en"
    confirm_address(http, ask)

    assert notify.reader(http, site, "Ben").post("/statya/", "Privet").status_code == 201
    deliver(notify)
    digest = notify.mailbox.to(mail)[-1]
    assert "Privet" in parts(digest)[0] and digest["Content-Language"] == "en"
