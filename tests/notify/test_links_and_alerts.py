"""Links in emails come only from configured URLs; moderator alerts survive a flood.

A forged Host header, a thread URL on someone else's domain or a stored request URL
must never reach an email; a flood of held comments must neither make one huge email
nor let a refused one silence later alerts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from rostra.app import create_app
from rostra.cli import main
from rostra.config import ConfigError, Settings, serving_problems
from rostra.store.notify_tables import notify_addresses
from tests.conftest import ORIGIN
from tests.notify.conftest import NotifyServer, address, confirm_address, parts
from tests.notify.test_email_flow import deliver

LINK = re.compile(r"https?://[^\s\"'<>]+")


def links(message: object) -> list[str]:
    text, html = parts(message)  # type: ignore[arg-type]
    found = LINK.findall(text) + LINK.findall(html)
    for header in ("List-Unsubscribe",):
        value = message[header]  # type: ignore[index]
        if value:
            found += LINK.findall(str(value))
    return found


def test_it_refuses_to_start_sending_email_without_a_public_url(tmp_path: object) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite3", smtp_host="127.0.0.1",
                        public_url="", classifier="off")
    with pytest.raises(ConfigError, match="public_url"):
        create_app(settings)


def test_it_refuses_sign_in_providers_without_a_public_url() -> None:
    provider = {"name": "idp", "label": "IdP", "issuer": "https://idp.example",
                "client_id": "rostra"}
    settings = Settings(public_url="", oidc_providers=[provider])
    assert any("oidc_providers" in p for p in serving_problems(settings))
    assert serving_problems(Settings(public_url="https://c.example",
                                     oidc_providers=[provider])) == []


def test_it_refuses_a_public_url_that_is_not_a_plain_http_address() -> None:
    for bad in ("comments.example.com", "ftp://x.example", "https://x.example/?a=1",
                "https://x.example/#top", "https://[x]/", "https://user@x.example"):
        with pytest.raises(ValueError, match="public_url"):
            Settings(public_url=bad)
    assert Settings(public_url="https://c.example/comments/").public_url == (
        "https://c.example/comments")


def test_it_has_doctor_say_what_is_unsafe(tmp_path: object, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]
    for key in ("ROSTRA_SMTP_HOST", "ROSTRA_PUBLIC_URL"):
        monkeypatch.delenv(key, raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    healthy = runner.invoke(main, ["doctor"])
    assert healthy.exit_code == 0, healthy.output
    monkeypatch.setenv("ROSTRA_SMTP_HOST", "127.0.0.1")
    broken = runner.invoke(main, ["doctor"])
    assert broken.exit_code == 1
    assert "public_url" in broken.output


def test_it_builds_every_link_from_the_public_url_whatever_the_host_header(
    notify: NotifyServer, http: httpx.Client
) -> None:
    public = notify.live.settings.public_url
    site, mail = notify.new_site(), address()
    forged = {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"}
    notify.subscribe(http, site, "/host/", mail, headers=forged)
    deliver(notify, later=False)
    [confirmation] = notify.mailbox.to(mail)
    found = links(confirmation)
    assert found and all(url.startswith(public + "/") for url in found), found
    confirm_address(http, confirmation)

    # Confirmed: a later subscription through a forged host, then a digest.
    notify.subscribe(http, site, "/host/", mail, headers=forged)
    ben = notify.reader(http, site, "Ben")
    assert ben.post("/host/", "A reply worth an email").status_code == 201
    deliver(notify)
    digest = notify.mailbox.to(mail)[-1]
    found = links(digest)
    assert all(url.startswith((public + "/", ORIGIN + "/")) for url in found), found


def test_it_keeps_thread_urls_on_the_sites_own_origins(
    notify: NotifyServer, http: httpx.Client
) -> None:
    site = notify.new_site()
    ben = notify.reader(http, site, "Ben")
    response = ben.post("https://attacker.example/phish", "Hello")
    assert response.status_code == 422, response.text
    assert "origin" in response.json()["detail"]
    assert ben.post(f"{ORIGIN}/fine", "Hello").status_code == 201


def test_it_caps_a_moderator_digest_in_items_and_bytes(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator = address()
    site = notify.new_site(notifications={
        "moderator_emails": [moderator], "moderator_digest": True,
        "moderator_digest_seconds": 60})
    notify.holds.sites.add(site)
    big = "Long held comment. " * 400  # about 7.6 KB each
    for n in range(60):
        reader = notify.reader(http, site, f"R{n}")
        assert reader.post("/flood/", f"{n}: {big}").status_code == 201
    notify.run(notify.worker().run_once(now=datetime.now(UTC) + timedelta(minutes=5)))
    [digest] = notify.mailbox.to(moderator)
    size = len(digest.as_bytes())
    assert size < 200_000, size
    text, _html = parts(digest)
    assert "60 comments need moderation" in digest["Subject"]
    assert "more in the queue" in text
    assert f"/admin/queue?site={site}" in text


def test_it_surfaces_a_staff_bounce_instead_of_silencing_alerts(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator = address()
    site = notify.new_site(notifications={"moderator_emails": [moderator]})
    notify.holds.sites.add(site)
    notify.mailbox.refuse[moderator] = (552, "5.3.4 Message too big")
    assert notify.reader(http, site, "Ben").post("/b/", "First").status_code == 201
    notify.run(notify.worker().run_once())
    del notify.mailbox.refuse[moderator]
    with notify.live.services.db.read() as conn:
        row = conn.execute(select(notify_addresses)
                           .where(notify_addresses.c.email == moderator)).first()
    # A staff address is not marked bounced: the next alert goes out.
    assert row is None or row.bounced_at is None
    assert notify.reader(http, site, "Cy").post("/b/", "Second").status_code == 201
    notify.run(notify.worker().run_once())
    assert len(notify.mailbox.to(moderator)) == 1
    # The failure is listed for the admin.
    failures = notify.live.app.app.state.notify.staff_failures(site)
    assert failures and failures[0]["recipient"] == moderator
    assert "552" in failures[0]["error"]
