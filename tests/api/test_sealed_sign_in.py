"""Sign-in secrets sealed at rest, on a real server over SQLite and PostgreSQL: a site's
single sign-on secret and its own providers' client secrets are stored sealed with a
key from secret_key, readers sign in as before, values stored plain by earlier versions
still work, and a value sealed under another secret_key turns that one feature off with
a clear message (log, command) while everything else keeps working, never with a 5xx."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert, select

from rostra.cli import main
from rostra.core.sealing import Purpose, Sealer
from rostra.store.site_provider_tables import site_oidc_providers
from rostra.store.tables import meta
from tests.api.test_site_providers import _sign_in
from tests.api.test_sso import post, signed
from tests.conftest import ORIGIN, LiveServer
from tests.oidc_provider import LoopbackProvider

BEFORE = Sealer("the-secret-key-before-the-operator-changed-it")


@pytest.fixture(scope="module")
def server_providers() -> list[dict[str, str]]:
    """None of the server's own: the sites' providers are what is sealed here (and the
    loopback provider starts only for the tests that use it)."""
    return []


def _site(live: LiveServer) -> str:
    return live.add_site("s" + secrets.token_hex(5), [ORIGIN])


def _stored_sso(live: LiveServer, site: str) -> str:
    with live.services.db.read() as conn:
        value: str = conn.scalar(select(meta.c.value).where(meta.c.key == f"sso_secret:{site}"))
    return value


def _store_sso(live: LiveServer, site: str, value: str) -> None:
    """A value as an earlier version, or a server with another secret_key, wrote it."""
    with live.services.db.write() as conn:
        conn.execute(insert(meta).values(key=f"sso_secret:{site}", value=value))


def _store_provider(live: LiveServer, site: str, name: str, provider: LoopbackProvider,
                    client_secret: str) -> None:
    with live.services.db.write() as conn:
        conn.execute(insert(site_oidc_providers).values(
            site_id=site, name=name, label=name.title(), issuer=provider.issuer,
            client_id=provider.client_id, client_secret=client_secret,
            scopes="openid profile email", created_at=datetime.now(UTC)))


def _rostra(live: LiveServer, *args: str) -> Result:
    """The command line on the server's database, with the server's secret_key."""
    return CliRunner().invoke(main, ["--database-url", live.settings.database_url, *args],
                              env={"ROSTRA_SECRET_KEY": live.settings.secret_key})


# -- single sign-on ----------------------------------------------------------------


def test_the_sso_secret_is_stored_sealed_and_signs_readers_in(live: LiveServer) -> None:
    site = _site(live)
    secret = live.services.accounts.make_secret(site)
    stored = _stored_sso(live, site)
    assert stored.startswith("sealed:v1:") and secret not in stored
    assert live.services.accounts.make_secret(site) == secret  # read back, opened
    with live.client() as http:
        answer = post(http, site, "/sealed/", "Signed in", signed(secret, id="u1", name="Ana"))
        assert answer.status_code == 201, answer.text
        assert answer.json()["comment"]["author"]["signed_in"] is True
        # A payload signed with the stored (sealed) text is no one's.
        forged = post(http, site, "/sealed/", "Forged", signed(stored, id="u2", name="Eve"))
        assert forged.status_code == 401 and forged.json()["code"] == "sso_invalid"
    shown = _rostra(live, "site", "sso", site)
    assert shown.exit_code == 0 and shown.stdout.strip() == secret


def test_a_plain_sso_secret_from_before_still_signs_readers_in(live: LiveServer) -> None:
    site = _site(live)
    _store_sso(live, site, "a-plain-secret-from-an-earlier-version")
    with live.client() as http:
        answer = post(http, site, "/plain/", "Signed in",
                      signed("a-plain-secret-from-an-earlier-version", id="u1", name="Ana"))
    assert answer.status_code == 201, answer.text


def test_an_sso_secret_sealed_with_another_key_turns_sso_off_with_a_clear_message(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    site = _site(live)
    _store_sso(live, site, BEFORE.seal("the-sites-secret", Purpose.SSO))
    payload = signed("the-sites-secret", id="u1", name="Ana")
    with caplog.at_level(logging.ERROR, logger="rostra.sign_in"), live.client() as http:
        refused = post(http, site, "/other-key/", "Signed in?", payload)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "sso_unavailable"
        assert "the-sites-secret" not in refused.text
        # Everything else on the site keeps working: anonymous readers post and read.
        anonymous = post(http, site, "/other-key/", "Anonymous", name="Ben")
        assert anonymous.status_code == 201, anonymous.text
        assert http.get("/api/comments", params={"site": site, "thread": "/other-key/"},
                        headers={"Origin": ORIGIN}).status_code == 200
    told = [r.getMessage() for r in caplog.records if r.name == "rostra.sign_in"]
    assert any(f"site {site!r}" in m and "another secret_key" in m
               and "rostra secrets seal --previous-key-file" in m for m in told), told
    assert not any("the-sites-secret" in m for m in told)

    shown = _rostra(live, "site", "sso", site)
    assert shown.exit_code == 1 and "another secret_key" in shown.output
    assert f"rostra site sso {site} --rotate" in shown.output
    rotated = _rostra(live, "site", "sso", site, "--rotate")
    assert rotated.exit_code == 0, rotated.output
    fresh = rotated.stdout.strip()
    with live.client() as http:
        again = post(http, site, "/other-key/", "Signed in", signed(fresh, id="u1", name="Ana"))
    assert again.status_code == 201, again.text


# -- a site's own providers ----------------------------------------------------------


def test_a_providers_client_secret_is_stored_sealed_and_readers_sign_in(
    live: LiveServer, provider: LoopbackProvider
) -> None:
    site = _site(live)
    live.services.site_providers.add(site, "newsroom", "Newsroom ID", provider.issuer,
                                     provider.client_id, provider.client_secret)
    with live.services.db.read() as conn:
        stored = conn.scalar(select(site_oidc_providers.c.client_secret)
                             .where(site_oidc_providers.c.site_id == site))
    assert stored.startswith("sealed:v1:") and provider.client_secret not in stored
    # The provider's token endpoint takes only the real secret.
    status, message = _sign_in(live, site, f"{site}.newsroom")
    assert status == 200 and message["rostra"] == "signed-in", message


def test_a_plain_client_secret_from_before_still_signs_readers_in(
    live: LiveServer, provider: LoopbackProvider
) -> None:
    site = _site(live)
    _store_provider(live, site, "legacy", provider, provider.client_secret)
    status, message = _sign_in(live, site, f"{site}.legacy")
    assert status == 200 and message["rostra"] == "signed-in", message


def test_a_provider_sealed_with_another_key_is_not_offered_and_the_others_are(
    live: LiveServer, provider: LoopbackProvider, caplog: pytest.LogCaptureFixture
) -> None:
    site = _site(live)
    _store_provider(live, site, "before", provider,
                    BEFORE.seal(provider.client_secret, Purpose.SITE_PROVIDER))
    live.services.site_providers.add(site, "current", "Current ID", provider.issuer,
                                     provider.client_id, provider.client_secret)
    with caplog.at_level(logging.ERROR, logger="rostra.sign_in"), live.client() as http:
        offer = http.get("/auth/providers", params={"site": site})
        assert offer.status_code == 200
        assert [p["name"] for p in offer.json()["providers"]] == [f"{site}.current"]
        gone = http.get(f"/auth/{site}.before/start", params={"site": site, "origin": ORIGIN})
        assert gone.status_code == 404, gone.text
    status, message = _sign_in(live, site, f"{site}.current")
    assert status == 200 and message["rostra"] == "signed-in", message
    told = [r.getMessage() for r in caplog.records if r.name == "rostra.sign_in"]
    assert sum(f"'{site}.before'" in m and "another secret_key" in m for m in told) == 1, told
    listed = _rostra(live, "site", "provider", "list", site)
    assert listed.exit_code == 0, listed.output
    lines = dict(line.split("\t", 1) for line in listed.stdout.splitlines())
    assert "NOT OFFERED" not in lines[f"{site}.current"]
    assert "NOT OFFERED" in lines[f"{site}.before"]
    assert "another secret_key" in lines[f"{site}.before"]
    assert provider.client_secret not in listed.output
