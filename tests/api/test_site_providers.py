"""A site's own OpenID Connect providers, and its choice among the server's, against a
provider on a loopback port, on SQLite and PostgreSQL; and the commands that set them."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from rostra.cli import main
from tests.conftest import ORIGIN, LiveServer
from tests.oidc_provider import LoopbackProvider


def _site(live: LiveServer, provider: LoopbackProvider, **settings: Any) -> str:
    site = live.add_site("p" + secrets.token_hex(5), [ORIGIN], **settings)
    live.services.site_providers.add(site, "newsroom", "Newsroom ID", provider.issuer,
                                     provider.client_id, provider.client_secret)
    return site


def _sign_in(live: LiveServer, site: str, name: str) -> tuple[int, dict[str, Any]]:
    with httpx.Client(base_url=live.url) as popup:
        started = popup.get(f"/auth/{name}/start", params={"site": site, "origin": ORIGIN})
        if started.status_code != 302:
            return started.status_code, started.json()
        approved = httpx.get(started.headers["location"])
        assert f"/auth/{name}/callback" in approved.headers["location"]
        page = popup.get(approved.headers["location"])
    found = re.search(r"const d = (\{.*?\});", page.text)
    assert found, page.text
    return page.status_code, json.loads(found.group(1))["message"]


def test_a_site_offers_its_own_provider_beside_the_servers(
    live: LiveServer, provider: LoopbackProvider
) -> None:
    site = _site(live, provider)
    offer = httpx.get(f"{live.url}/auth/providers", params={"site": site}).json()
    assert offer["providers"] == [{"name": "testid", "label": "Test ID"},
                                  {"name": f"{site}.newsroom", "label": "Newsroom ID"}]
    assert "s3cret" not in json.dumps(offer)
    status, message = _sign_in(live, site, f"{site}.newsroom")
    assert status == 200 and message["rostra"] == "signed-in", message
    with live.client() as http:
        me = http.get("/api/account", params={"site": site},
                      headers={"Origin": ORIGIN, "X-Rostra-Session": message["session"]})
        assert me.status_code == 200 and me.json()["method"] == "oidc"
    # Another site cannot send its readers through this site's provider.
    other = live.add_site("p" + secrets.token_hex(5), [ORIGIN])
    refused, problem = _sign_in(live, other, f"{site}.newsroom")
    assert refused == 403 and problem["code"] == "provider_not_offered"


def test_a_site_narrows_the_servers_providers(
    live: LiveServer, provider: LoopbackProvider
) -> None:
    site = _site(live, provider, sign_in={"providers": []})
    offer = httpx.get(f"{live.url}/auth/providers", params={"site": site}).json()
    assert [p["name"] for p in offer["providers"]] == [f"{site}.newsroom"]
    status, problem = _sign_in(live, site, "testid")
    assert status == 403 and problem["code"] == "provider_not_offered"
    with live.client() as http:
        bad = http.get("/auth/nosuch.thing/start", params={"site": site, "origin": ORIGIN})
        assert bad.status_code == 404


def test_it_refuses_bad_providers(live: LiveServer, provider: LoopbackProvider) -> None:
    from rostra.core.errors import Conflict, InvalidInput

    site = _site(live, provider)
    providers = live.services.site_providers
    with pytest.raises(Conflict):
        providers.add(site, "newsroom", "Again", provider.issuer, "x")
    with pytest.raises(InvalidInput, match="issuer"):
        providers.add(site, "plain", "Plain", "http://id.example.com", "x")
    with pytest.raises(InvalidInput, match="name"):
        providers.add(site, "Bad.Name", "Bad", provider.issuer, "x")


def test_the_commands_set_a_sites_sign_in(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Any:
        return runner.invoke(main, ["--database-url", db, *args], input=input)

    assert run("db", "upgrade").exit_code == 0
    assert run("site", "add", "gazette", "--name", "Gazette",
               "--origin", "https://gazette.example").exit_code == 0
    shown = run("site", "sign-in", "gazette", "--no-email", "--providers", "")
    assert shown.exit_code == 0, shown.output
    assert "email links: off" in shown.output and "passkeys: on" in shown.output
    assert "server providers: none" in shown.output
    added = run("site", "provider", "add", "gazette", "kc", "--label", "Gazette ID",
                "--issuer", "https://id.gazette.example/realms/readers",
                "--client-id", "comments", "--client-secret-file", "-", input="hush\n")
    assert added.exit_code == 0, added.output
    assert "/auth/gazette.kc/callback" in added.output
    listed = run("site", "provider", "list", "gazette")
    assert "gazette.kc\tGazette ID" in listed.output and "hush" not in listed.output
    assert "own providers: gazette.kc" in run("site", "sign-in", "gazette").output
    assert run("site", "provider", "remove", "gazette", "gazette.kc").exit_code == 0
    missing = run("site", "provider", "remove", "gazette", "kc")
    assert missing.exit_code == 1 and "no provider" in missing.output
    assert run("site", "sign-in", "gazette", "--all-providers").exit_code == 0
