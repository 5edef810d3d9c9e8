"""Readers signing in with an email link, against a real SMTP server, on SQLite and
PostgreSQL: one-time links built from public_url, a button page, a code handed back
to the widget, rate limits, no account enumeration, and claiming earlier comments."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from lxml import html as lxml_html
from sqlalchemy import select, update

from rostra.services.email_sign_in import LINKS_PER_ADDRESS
from rostra.store.account_tables import reader_accounts, reader_sign_in_links
from rostra.store.tables import comments
from tests.conftest import ORIGIN
from tests.notify.conftest import NotifyServer, address, link, parts, wait_for

PAGE = ORIGIN + "/2026/story.html"


def _ip() -> str:
    return "10." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(3))


def ask(http: httpx.Client, site: str, email: str, *, ip: str | None = None,
        origin: str = ORIGIN, page: str = PAGE, name: str | None = "Mila") -> httpx.Response:
    return http.post("/auth/email", json={"site": site, "email": email, "page": page,
                                          "name": name},
                     headers={"Origin": origin, "X-Forwarded-For": ip or _ip()})


def mailed_link(server: NotifyServer, email: str, count: int = 1) -> str:
    messages = wait_for(lambda: len(server.mailbox.to(email)) >= count and
                        server.mailbox.to(email), what=f"sign-in email to {email}")
    return link(messages[count - 1], "/auth/email/link")


def follow(http: httpx.Client, server: NotifyServer, url: str) -> httpx.Response:
    page = http.get(url)
    assert page.status_code == 200, page.text
    form = lxml_html.fromstring(page.text).xpath('//form[@id="sign-in"]')[0]
    public = server.live.settings.public_url
    return http.post(form.get("action"), data={"token": form.xpath(".//input/@value")[0]},
                     headers={"Origin": public})


def code_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    target = response.headers["location"]
    assert target.startswith(PAGE + "#rostra-sign-in=")
    return target.split("=", 1)[1]


def trade(http: httpx.Client, site: str, code: str) -> httpx.Response:
    return http.post("/auth/email/session", json={"site": site, "code": code},
                     headers={"Origin": ORIGIN})


def test_a_reader_signs_in_with_a_link_once_and_claims_earlier_comments(
    notify_auto: NotifyServer,
) -> None:
    server = notify_auto
    site = server.new_site()
    email = address()
    with server.live.client() as http:
        earlier = http.post("/api/comments", headers={"Origin": ORIGIN}, json={
            "site": site, "thread": "/claim/", "text": "Before I had an account",
            "name": "Mila", "email": email.upper()})
        assert earlier.status_code == 201, earlier.text
        asked = ask(http, site, email)
        assert asked.status_code == 202 and asked.json() == {"status": "sent"}
        assert email not in asked.text
        url = mailed_link(server, email)
        assert url.startswith(server.live.settings.public_url + "/auth/email/link?token=")
        text, html = parts(server.mailbox.to(email)[0])
        assert "15 minutes" in text and url.replace("&", "&amp;") in html
        # Opening the link (a mail scanner, say) uses nothing up: the button does.
        assert http.get(url).status_code == 200
        code = code_of(follow(http, server, url))
        again = follow(http, server, url) if http.get(url).status_code == 200 else None
        assert again is None  # the page now says the link was used
        used = http.get(url)
        assert used.status_code == 400 and 'id="invalid"' in used.text
        session = trade(http, site, code)
        assert session.status_code == 200, session.text
        body = session.json()
        assert body["name"] == "Mila" and session.headers["cache-control"] == "no-store"
        replay = trade(http, site, code)
        assert replay.status_code == 400 and replay.json()["code"] == "sign_in_link_invalid"
        headers = {"Origin": ORIGIN, "X-Rostra-Session": body["session"]}
        posted = http.post("/api/comments", headers=headers, json={
            "site": site, "thread": "/claim/", "text": "Now signed in by email",
            "name": "Someone else"})
        assert posted.status_code == 201, posted.text
        assert posted.json()["comment"]["author"]["name"] == "Mila"
        account = http.get("/api/account", params={"site": site}, headers=headers).json()
        assert account["method"] == "email" and account["email_verified"] is True
        assert account["claimable"] == 1
        claimed = http.post("/api/account/claim", params={"site": site}, headers=headers)
        assert claimed.status_code == 200 and claimed.json() == {"claimed": 1}
        assert http.get("/api/account", params={"site": site},
                        headers=headers).json()["claimable"] == 0
    with server.live.services.db.read() as conn:
        owner = conn.scalar(select(comments.c.account_id)
                            .where(comments.c.id == earlier.json()["comment"]["id"]))
        row = conn.execute(select(reader_accounts).where(reader_accounts.c.id == owner)).one()
    assert row.subject == f"email:{email}" and row.email_verified


def test_the_answer_is_the_same_for_any_address(notify_auto: NotifyServer) -> None:
    server = notify_auto
    site = server.new_site()
    known = address()
    with server.live.client() as http:
        first = ask(http, site, known)
        code = code_of(follow(http, server, mailed_link(server, known)))
        assert trade(http, site, code).status_code == 200
        again, stranger = ask(http, site, known), ask(http, site, address())
    assert (again.status_code, again.json()) == (stranger.status_code, stranger.json())
    assert first.json() == again.json()


def test_links_are_limited_per_address_and_per_network_address(
    notify_auto: NotifyServer,
) -> None:
    server = notify_auto
    site = server.new_site()
    email = address()
    with server.live.client() as http:
        for _ in range(LINKS_PER_ADDRESS):
            assert ask(http, site, email).status_code == 202
        limited = ask(http, site, email)
        assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
        assert int(limited.headers["retry-after"]) > 0
        assert email not in limited.text
        ip = _ip()
        answers = [ask(http, site, address(), ip=ip).status_code for _ in range(21)]
        assert answers[:20] == [202] * 20 and answers[20] == 429


def test_it_refuses_other_origins_pages_and_forged_or_expired_links(
    notify_auto: NotifyServer,
) -> None:
    server = notify_auto
    site = server.new_site()
    email = address()
    with server.live.client() as http:
        foreign = ask(http, site, email, origin="https://evil.example")
        assert foreign.status_code == 403 and foreign.json()["code"] == "origin_not_allowed"
        elsewhere = ask(http, site, email, page="https://evil.example/phish")
        assert elsewhere.status_code == 422
        bad = ask(http, site, "not an address")
        assert bad.status_code == 422 and bad.headers["content-type"].startswith(
            "application/problem+json")
        assert ask(http, site, email).status_code == 202
        url = mailed_link(server, email)
        token = urlsplit(url).query.split("=", 1)[1]
        # A page on another site cannot make a visitor's browser use the link.
        cross = http.post("/auth/email/link", data={"token": token},
                          headers={"Origin": "https://evil.example"})
        assert cross.status_code == 403
        # One whole character inside the signature changed (the last one carries padding
        # bits that several characters share, so changing only the end can keep it valid).
        other = "A" if url[-5] != "A" else "B"
        forged = http.get(url[:-5] + other + url[-4:])
        assert forged.status_code == 400
        assert trade(http, site, "x" * 32).status_code == 400
        with server.live.services.db.write() as conn:
            conn.execute(update(reader_sign_in_links)
                         .where(reader_sign_in_links.c.email == email)
                         .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        expired = http.get(url)
        assert expired.status_code == 400 and 'id="invalid"' in expired.text
        late = http.post("/auth/email/link", data={"token": token},
                         headers={"Origin": server.live.settings.public_url})
        assert late.status_code == 400


def test_a_code_is_good_on_its_own_site_only(notify_auto: NotifyServer) -> None:
    server = notify_auto
    site, other = server.new_site(), server.new_site()
    email = address()
    with server.live.client() as http:
        ask(http, site, email)
        code = code_of(follow(http, server, mailed_link(server, email)))
        assert trade(http, other, code).status_code == 400
        assert trade(http, site, code).status_code == 200


def test_a_site_may_turn_email_sign_in_off(notify_auto: NotifyServer) -> None:
    server = notify_auto
    site = server.new_site(sign_in={"email": False})
    with server.live.client() as http:
        refused = ask(http, site, address())
        assert refused.status_code == 409 and refused.json()["code"] == "email_sign_in_off"
        offer = http.get("/auth/providers", params={"site": site}).json()
        assert offer["email"] is False
        on = http.get("/auth/providers", params={"site": server.new_site()}).json()
        assert on["email"] is True


def test_export_and_erasure_cover_links_and_sessions(notify_auto: NotifyServer) -> None:
    from rostra.services.personal_data import PersonalData

    server = notify_auto
    site = server.new_site()
    email = address()
    with server.live.client() as http:
        ask(http, site, email)
        session = trade(http, site, code_of(follow(http, server, mailed_link(server, email))))
        token = session.json()["session"]
        people = PersonalData(server.live.services.comments)
        exported = people.export(email)
        assert [a["id"] for a in exported["accounts"]] == [f"email:{email}"]
        assert exported["accounts"][0]["sessions"][0]["method"] == "email"
        assert exported["sign_in_links"][0]["page"] == PAGE
        assert token not in str(exported) and not re.search(r"token", str(exported))
        people.forget(email, actor="test")
        assert http.get("/api/account", params={"site": site}, headers={
            "Origin": ORIGIN, "X-Rostra-Session": token}).status_code == 401
        assert people.export(email)["sign_in_links"] == []
