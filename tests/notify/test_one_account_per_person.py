"""One account per person per site: an email link and an OpenID Connect provider that
asserts the same verified address sign the same account in (votes, bans, reputation
follow it), never on an address the provider does not say is verified. A real SMTP
server, a provider on a loopback port, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rostra.services.moderation import BanKind, BanRequest
from rostra.services.sessions import token_hash
from rostra.store.account_tables import reader_accounts, reader_sessions
from tests.conftest import ORIGIN
from tests.notify.conftest import BACKENDS, Mailbox, NotifyServer, _server, address
from tests.notify.test_email_sign_in import ask, code_of, follow, mailed_link, trade
from tests.oidc_provider import LoopbackProvider


@pytest.fixture(scope="module", params=BACKENDS)
def both(request: pytest.FixtureRequest, smtp: tuple[Mailbox, int],
         provider: LoopbackProvider) -> Iterator[NotifyServer]:
    """A server that sends email links and offers the loopback provider as testid."""
    providers = [{"name": "testid", "label": "Test ID", "issuer": provider.issuer,
                  "client_id": provider.client_id, "client_secret": provider.client_secret}]
    yield from _server(request.param, smtp, worker=True, notify_batch_seconds=0,
                       oidc_providers=providers)


def by_provider(server: NotifyServer, provider: LoopbackProvider, site: str,
                **claims: Any) -> str:
    """Sign in with the provider asserting ``claims``; the session."""
    provider.claims = {"name": "Olga Provider", **claims}
    with httpx.Client(base_url=server.live.url) as popup:
        started = popup.get("/auth/testid/start", params={"site": site, "origin": ORIGIN})
        assert started.status_code == 302, started.text
        approved = httpx.get(started.headers["location"])
        page = popup.get(approved.headers["location"])
    found = re.search(r"const d = (\{.*?\});", page.text)
    assert found, page.text
    message = json.loads(found.group(1))["message"]
    assert message["rostra"] == "signed-in", message
    return str(message["session"])


def by_link(server: NotifyServer, site: str, email: str, count: int = 1) -> str:
    with server.live.client() as http:
        assert ask(http, site, email).status_code == 202
        code = code_of(follow(http, server, mailed_link(server, email, count)))
        traded = trade(http, site, code)
        assert traded.status_code == 200, traded.text
        return str(traded.json()["session"])


def account_of(server: NotifyServer, session: str) -> int:
    with server.live.services.db.read() as conn:
        found = conn.scalar(select(reader_sessions.c.account_id)
                            .where(reader_sessions.c.token_hash == token_hash(session)))
    assert found is not None
    return int(found)


def post(server: NotifyServer, site: str, session: str, text: str) -> httpx.Response:
    with server.live.client() as http:
        return http.post("/api/comments", json={"site": site, "thread": "/one/", "text": text},
                         headers={"Origin": ORIGIN, "X-Rostra-Session": session})


def sub() -> str:
    return secrets.token_hex(6)


def test_a_provider_asserting_the_verified_address_finds_the_email_links_account(
        both: NotifyServer, provider: LoopbackProvider) -> None:
    site = both.new_site()
    email = address()
    by_email = account_of(both, by_link(both, site, email))
    # The provider writes the address in its own case: the same person.
    session = by_provider(both, provider, site, sub=sub(), email=email.upper(),
                          email_verified=True)
    assert account_of(both, session) == by_email
    # Some providers send the claim as a string: "true" counts, as the boolean does.
    spelled = by_provider(both, provider, site, sub=sub(), email=email, email_verified="true")
    assert account_of(both, spelled) == by_email
    # Signing in with the provider again keeps to that account.
    with both.live.services.db.read() as conn:
        accounts = conn.execute(select(reader_accounts.c.id)
                                .where(reader_accounts.c.site_id == site)).scalars().all()
    assert accounts == [by_email]


def test_an_email_link_finds_the_account_a_provider_made_with_that_verified_address(
        both: NotifyServer, provider: LoopbackProvider) -> None:
    site = both.new_site()
    email = address()
    made = account_of(both, by_provider(both, provider, site, sub=sub(), email=email,
                                        email_verified=True))
    assert account_of(both, by_link(both, site, email)) == made
    # Another site's accounts are another matter.
    other = both.new_site()
    assert account_of(both, by_link(both, other, email, count=2)) != made


@pytest.mark.parametrize("verified", [None, False, "false", "yes", 1])
def test_an_address_the_provider_does_not_say_is_verified_links_nothing(
        both: NotifyServer, provider: LoopbackProvider, verified: Any) -> None:
    site = both.new_site()
    email = address()
    by_email = account_of(both, by_link(both, site, email))
    claims: dict[str, Any] = {"sub": sub(), "email": email}
    if verified is not None:
        claims["email_verified"] = verified
    session = by_provider(both, provider, site, **claims)
    assert account_of(both, session) != by_email
    # Nor the other way: the address of that account was never verified.
    unverified = account_of(both, session)
    other = address()
    claims = {"sub": sub(), "email": other}
    if verified is not None:
        claims["email_verified"] = verified
    lone = account_of(both, by_provider(both, provider, site, **claims))
    assert account_of(both, by_link(both, site, other)) != lone
    assert unverified != lone


def test_a_ban_of_the_account_holds_whichever_way_the_person_signs_in(
        both: NotifyServer, provider: LoopbackProvider) -> None:
    site = both.new_site()
    email = address()
    session = by_link(both, site, email)
    first = post(both, site, session, "Something rude enough to ban")
    assert first.status_code == 201, first.text
    moderation = both.live.app.app.state.moderation.service
    moderation.ban(BanRequest(site, BanKind.ACCOUNT, comment_id=first.json()["comment"]["id"],
                              reason="abuse"), actor="mod")
    again = by_provider(both, provider, site, sub=sub(), email=email, email_verified=True)
    refused = post(both, site, again, "Back through the provider")
    assert refused.status_code == 422, refused.text
    assert refused.json()["reasons"] == ["banned"]


def test_erasing_the_account_by_either_way_in_erases_the_one_account(
        both: NotifyServer, provider: LoopbackProvider) -> None:
    from click.testing import CliRunner

    from rostra.cli import main

    site = both.new_site()
    email = address()
    by_email = by_link(both, site, email)
    subject = sub()
    by_oidc = by_provider(both, provider, site, sub=subject, email=email, email_verified=True)
    assert post(both, site, by_oidc, "Written through the provider").status_code == 201
    done = CliRunner().invoke(main, [
        "--database-url", both.live.settings.database_url, "privacy", "forget",
        "--site", site, "--subject", f"testid:{subject}", "--yes"])
    assert done.exit_code == 0, done.output
    assert "erased 1 comment(s)" in done.output and "1 sign-on account(s)" in done.output
    for session in (by_email, by_oidc):
        gone = post(both, site, session, "Still here?")
        assert gone.status_code == 401 and gone.json()["code"] == "session_expired"
