"""Email sign-in refuses what it must not mail or trade, and mails nobody: a name on
two lines or too long, a page that is no web page, a code traded from another origin or
an empty one (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.notify.conftest import NotifyServer, address
from tests.notify.test_email_sign_in import ask, trade


@pytest.mark.parametrize(("fields", "detail"), [
    ({"name": "Mila\nBcc: victim@example.org"}, "name: one line of at most"),
    ({"name": "M" * 100}, "name: one line of at most 80 characters"),
    ({"page": "javascript:alert(1)"}, "page: must be an http or https address"),
    ({"page": "mailto:someone@news.example"}, "page: must be an http or https address"),
], ids=["name-two-lines", "name-long", "page-javascript", "page-mailto"])
def test_it_mails_no_link_for_a_bad_name_or_page(notify_auto: NotifyServer,
                                                  fields: dict[str, str], detail: str) -> None:
    server, site, email = notify_auto, notify_auto.new_site(), address()
    with server.live.client() as http:
        refused = ask(http, site, email, **fields)  # type: ignore[arg-type]
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith(detail)
    assert server.mailbox.to(email) == []


def test_it_trades_no_code_from_another_origin_or_an_empty_one(
    notify_auto: NotifyServer
) -> None:
    server, site = notify_auto, notify_auto.new_site()
    with server.live.client() as http:
        foreign = http.post("/auth/email/session", json={"site": site, "code": "x" * 32},
                            headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
        empty = trade(http, site, "")
        assert empty.status_code == 400 and empty.json()["detail"].endswith("no sign-in code")
