"""`rostra secrets seal|status|unseal` on a real server's database (SQLite and
PostgreSQL): secrets an earlier version stored plain are sealed in place, a second run
changes nothing, the features keep working, a value sealed under another key is
reported (never printed) and left as it is."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert, select, update

from rostra.cli import main
from rostra.core.sealing import Purpose, Sealer, is_sealed
from rostra.notify.webhooks import new_secret
from rostra.services.staff import StaffService
from rostra.store.notify_tables import notify_webhooks
from rostra.store.site_provider_tables import site_oidc_providers
from rostra.store.staff_tables import staff_users
from rostra.store.tables import meta
from tests.admin.conftest import StaffMember
from tests.api.test_sso import post, signed
from tests.conftest import ORIGIN, LiveServer, running_server

PASSWORD = "correct horse battery"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A server of its own: the command counts every secret of the database."""
    with running_server(request.param) as server:
        yield server


def _rostra(live: LiveServer, *args: str, key: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--database-url", live.settings.database_url, *args],
                              env={"ROSTRA_SECRET_KEY": live.settings.secret_key
                                   if key is None else key})


def _plain_secrets(live: LiveServer) -> dict[str, str]:
    """One secret of each kind, stored plain as versions before sealing stored them."""
    site = live.add_site("c" + secrets.token_hex(5), [ORIGIN])
    plain = {"sso": "a-plain-sso-secret", "provider": "a-plain-client-secret",
             "webhook": new_secret(), "totp": pyotp.random_base32(), "site": site}
    staff = live.app.app.state.staff
    staff.create_user("plain-" + site, PASSWORD)
    with live.services.db.write() as conn:
        conn.execute(insert(meta).values(key=f"sso_secret:{site}", value=plain["sso"]))
        conn.execute(insert(site_oidc_providers).values(
            site_id=site, name="kc", label="KC", issuer="https://id.example",
            client_id="comments", client_secret=plain["provider"], scopes="openid",
            created_at=datetime.now(UTC)))
        conn.execute(insert(site_oidc_providers).values(  # a public client: no secret
            site_id=site, name="public", label="Public", issuer="https://id.example",
            client_id="comments", client_secret="", scopes="openid",
            created_at=datetime.now(UTC)))
        conn.execute(insert(notify_webhooks).values(
            site_id=site, url="https://hooks.example/", secret=plain["webhook"],
            events=["comment.created"], active=True, created_at=datetime.now(UTC)))
        conn.execute(update(staff_users).where(staff_users.c.name == "plain-" + site)
                     .values(totp_secret=plain["totp"]))
    return plain


def _stored(live: LiveServer) -> dict[str, Any]:
    with live.services.db.read() as conn:
        return {
            "sso": conn.scalars(select(meta.c.value)
                                .where(meta.c.key.startswith("sso_secret:"))).all(),
            "provider": conn.scalars(select(site_oidc_providers.c.client_secret)
                                     .order_by(site_oidc_providers.c.name)).all(),
            "webhook": conn.scalars(select(notify_webhooks.c.secret)).all(),
            "totp": conn.scalars(select(staff_users.c.totp_secret)
                                 .where(staff_users.c.totp_secret.is_not(None))).all(),
        }


def test_it_seals_plain_secrets_once_and_they_keep_working(live: LiveServer) -> None:
    plain = _plain_secrets(live)
    status = _rostra(live, "secrets", "status")
    assert status.exit_code == 0, status.output
    assert "single sign-on secrets: 1 plain" in status.output
    sealed = _rostra(live, "secrets", "seal")
    assert sealed.exit_code == 0, sealed.output
    assert sealed.stdout.splitlines() == [
        "single sign-on secrets: 1 sealed now",
        "site providers' client secrets: 1 sealed now",
        "webhook secrets: 1 sealed now",
        "staff TOTP secrets: 1 sealed now",
        "staff TOTP secrets waiting for a first code: none stored",
    ]
    after = _stored(live)
    assert after["provider"][1] == ""  # the public client has no secret to seal
    values = [*after["sso"], after["provider"][0], *after["webhook"], *after["totp"]]
    assert all(v.startswith("sealed:v1:") for v in values), values
    for secret in (plain["sso"], plain["provider"], plain["webhook"], plain["totp"]):
        assert all(secret not in v for v in values)
        assert secret not in sealed.output

    again = _rostra(live, "secrets", "seal")
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "single sign-on secrets: 1 sealed already",
        "site providers' client secrets: 1 sealed already",
        "webhook secrets: 1 sealed already",
        "staff TOTP secrets: 1 sealed already",
        "staff TOTP secrets waiting for a first code: none stored",
    ]
    assert _stored(live) == after  # not a byte changed

    # What the sealed values are for still works on the running server.
    site = plain["site"]
    live.services.forget_sign_in()
    with live.client() as http:
        answer = post(http, site, "/sealed-by-command/", "Hi",
                      signed(plain["sso"], id="u1", name="Ana"))
        assert answer.status_code == 201, answer.text
    [kc] = [p for p in live.services.site_providers.of_site(site) if p.name == "kc"]
    assert kc.client_secret == plain["provider"]
    staff = live.app.app.state.staff
    assert staff.login("plain-" + site, PASSWORD, ip=None,
                       totp_code=pyotp.TOTP(plain["totp"]).now()).account.totp


def test_it_seals_nothing_without_a_configured_key(live: LiveServer) -> None:
    plain = _plain_secrets(live)
    refused = _rostra(live, "secrets", "seal", key="")
    assert refused.exit_code == 1
    assert "secret_key is not configured" in refused.output
    assert "protects nothing" in refused.output
    assert plain["sso"] in _stored(live)["sso"]


def test_it_reports_what_it_cannot_open_and_seals_the_rest(
    live: LiveServer, tmp_path: Path
) -> None:
    plain = _plain_secrets(live)
    before = "the-secret-key-before-the-operator-changed-it"
    foreign = Sealer(before).seal("a-secret-sealed-before", Purpose.SSO)
    with live.services.db.write() as conn:
        conn.execute(insert(meta).values(key="sso_secret:elsewhere", value=foreign))
    sealed = _rostra(live, "secrets", "seal")
    assert sealed.exit_code == 1
    assert "single sign-on secrets: 1 sealed now, 1 cannot be opened" in sealed.stdout
    assert "webhook secrets: 1 sealed now" in sealed.stdout
    assert "cannot open site 'elsewhere': sealed with another secret_key" in sealed.output
    assert "--previous-key-file" in sealed.output
    assert "a-secret-sealed-before" not in sealed.output
    assert foreign in _stored(live)["sso"]  # left as it was

    key_file = tmp_path / "old-key"
    key_file.write_text(before, encoding="utf-8")
    resealed = _rostra(live, "secrets", "seal", "--previous-key-file", str(key_file))
    assert resealed.exit_code == 0, resealed.output
    assert ("single sign-on secrets: 1 re-sealed from the previous key, 1 sealed already"
            in resealed.stdout)
    assert foreign not in _stored(live)["sso"]
    assert live.services.accounts.secret("elsewhere", fresh=True) == "a-secret-sealed-before"

    # Back to plain (before a downgrade): every value as it was given.
    unsealed = _rostra(live, "secrets", "unseal")
    assert unsealed.exit_code == 0, unsealed.output
    assert "staff TOTP secrets: 1 unsealed" in unsealed.stdout
    stored = _stored(live)
    assert sorted(stored["sso"]) == sorted([plain["sso"], "a-secret-sealed-before"])
    assert stored["provider"] == [plain["provider"], ""]
    assert stored["webhook"] == [plain["webhook"]] and stored["totp"] == [plain["totp"]]


def test_an_export_carries_no_secret_and_restores_under_another_key(
    live: LiveServer, tmp_path: Path
) -> None:
    plain = _plain_secrets(live)
    assert _rostra(live, "secrets", "seal").exit_code == 0
    site = plain["site"]
    with live.client() as http:
        signed_in = post(http, site, "/moved/", "Before the move",
                         signed(plain["sso"], id="u1", name="Ana"))
        assert signed_in.status_code == 201, signed_in.text
    path = tmp_path / "all.jsonl"
    exported = _rostra(live, "export", str(path))
    assert exported.exit_code == 0, exported.output
    text = path.read_text(encoding="utf-8")
    assert "sealed:" not in text and "whsec_" not in text
    for secret in (plain["sso"], plain["provider"], plain["webhook"], plain["totp"]):
        assert secret not in text

    with running_server(live.backend, secret_key="another-servers-secret-key") as target:
        restored = _rostra(target, "import", "rostra", str(path))
        assert restored.exit_code == 0, restored.output
        target.services.sites.reload()
        new_secret_ = target.services.accounts.make_secret(site)
        with target.client() as http:
            page = http.get("/api/comments", params={"site": site, "thread": "/moved/"},
                            headers={"Origin": ORIGIN})
            assert page.status_code == 200
            assert [c["html"] for c in page.json()["comments"]] == ["<p>Before the move</p>"]
            again = post(http, site, "/moved/", "After the move",
                         signed(new_secret_, id="u1", name="Ana"))
            assert again.status_code == 201, again.text


def _waiting_totp(live: LiveServer, name: str) -> str:
    with live.services.db.read() as conn:
        value: str = conn.scalar(select(staff_users.c.totp_pending)
                                 .where(staff_users.c.name == name))
    return value


def test_it_seals_a_new_totp_secret_waiting_for_its_first_code(
    live: LiveServer, tmp_path: Path
) -> None:
    name = "waiting-" + secrets.token_hex(4)
    account = live.app.app.state.staff.create_user(name, PASSWORD)
    before = "the-secret-key-before-the-operator-changed-it"
    key_file = tmp_path / "old-key"
    key_file.write_text(before, encoding="utf-8")
    # The staff member began a new second factor on the server before the operator
    # changed secret_key: it waits for a code from it, sealed with that key.
    server_before = StaffService(live.services.db, live.services.comments.hashing.ips,
                                 Sealer(before))
    secret = server_before.begin_totp(account.id)
    assert Sealer(before).sealed_here(_waiting_totp(live, name))
    current = Sealer(live.settings.secret_key)

    resealed = _rostra(live, "secrets", "seal", "--previous-key-file", str(key_file))
    assert resealed.exit_code == 0, resealed.output
    waiting = _waiting_totp(live, name)
    assert current.sealed_here(waiting) and secret not in waiting
    assert ("staff TOTP secrets waiting for a first code: 1 re-sealed from the previous key"
            in resealed.stdout)
    assert secret not in resealed.output

    # Back to plain (before a downgrade), and sealed again.
    unsealed = _rostra(live, "secrets", "unseal")
    assert unsealed.exit_code == 0, unsealed.output
    assert "staff TOTP secrets waiting for a first code: 1 unsealed" in unsealed.stdout
    assert _waiting_totp(live, name) == secret
    status = _rostra(live, "secrets", "status")
    assert "staff TOTP secrets waiting for a first code: 1 plain" in status.stdout
    sealed = _rostra(live, "secrets", "seal")
    assert sealed.exit_code == 0, sealed.output
    assert "staff TOTP secrets waiting for a first code: 1 sealed now" in sealed.stdout
    waiting = _waiting_totp(live, name)
    assert is_sealed(waiting) and current.sealed_here(waiting) and secret not in waiting

    # The staff member confirms it on the account page with a code from their app.
    with live.client() as http:
        member = StaffMember(name, http)
        assert member.login().status_code == 303
        confirmed = member.post("/admin/account", {
            "op": "totp_confirm", "code": pyotp.TOTP(secret).now()})
        assert confirmed.status_code == 303, confirmed.text
    with live.services.db.read() as conn:
        row = conn.execute(select(staff_users.c.totp_secret, staff_users.c.totp_pending)
                           .where(staff_users.c.name == name)).one()
    assert row.totp_pending is None and current.open(row.totp_secret, Purpose.TOTP) == secret
