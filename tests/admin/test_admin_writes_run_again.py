"""The site administration's writes survive a deadlock or a connection lost on a
statement (a PostgreSQL restart or failover): making a site and changing its settings,
adding and removing a webhook or a sign-in provider, making or dropping the site's
single sign-on secret. Each ran outside ``attempts`` and answered 500; each now runs
again, once. Those whose second try would answer wrongly after a COMMIT lost with its
connection (a second webhook, "exists already", "not found") run again only when nothing
committed; changing settings and the sign-on secret run again after a lost COMMIT too."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from rostra.services.audit_log import Audited
from rostra.services.webhooks import NewWebhook
from rostra.store.notify_tables import notify_webhooks
from rostra.store.site_provider_tables import site_oidc_providers
from rostra.store.tables import meta
from tests.conftest import CONNECTION_LOST, DEADLOCK, LiveServer, first_try_fails

pytestmark = pytest.mark.postgres

FAILURES = [DEADLOCK, CONNECTION_LOST]
IDS = ["deadlock", "lost on the statement"]


def _count(server: LiveServer, table: object, *where: object) -> int:
    with server.services.db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _once(server: LiveServer, event: str, condition: str, failure: str, table: str,
          write: Callable[[], object]) -> None:
    with first_try_fails(server, event, condition, failure, table=table) as tried:
        write()
        assert tried() == 2


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_a_site_is_made_and_changed(pg_live_server: LiveServer, failure: str) -> None:
    server, sites = pg_live_server, pg_live_server.services.sites
    site = "a" + secrets.token_hex(5)
    _once(server, "INSERT", f"NEW.id = '{site}'", failure, "sites",
          lambda: sites.create(site, "Made", [f"https://{site}.example"]))
    _once(server, "UPDATE", f"NEW.id = '{site}'", failure, "sites",
          lambda: sites.update(site, name="Renamed", settings={"max_depth": 3}))
    changed = sites.get(site)
    assert changed.name == "Renamed" and changed.settings["max_depth"] == 3
    assert list(changed.origins) == [f"https://{site}.example"]


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_a_webhook_is_added_and_removed_once(pg_live_server: LiveServer,
                                             failure: str) -> None:
    server = pg_live_server
    site = server.add_site("w" + secrets.token_hex(5))
    webhooks = server.app.app.state.notify.webhooks
    added: list[dict[str, object]] = []
    _once(server, "INSERT", f"NEW.site_id = '{site}'", failure, "notify_webhooks",
          lambda: added.append(webhooks.add(site, NewWebhook("https://hooks.example/in"),
                                            audited=Audited("a test"))))
    assert str(added[0]["secret"]).startswith("whsec_")
    assert _count(server, notify_webhooks, notify_webhooks.c.site_id == site) == 1
    _once(server, "DELETE", f"OLD.site_id = '{site}'", failure, "notify_webhooks",
          lambda: webhooks.remove(site, int(str(added[0]["id"])), audited=Audited("a test")))
    assert _count(server, notify_webhooks, notify_webhooks.c.site_id == site) == 0


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_a_sign_in_provider_is_added_and_removed(pg_live_server: LiveServer,
                                                 failure: str) -> None:
    server = pg_live_server
    site = server.add_site("p" + secrets.token_hex(5))
    providers = server.services.site_providers
    _once(server, "INSERT", f"NEW.site_id = '{site}'", failure, "site_oidc_providers",
          lambda: providers.add(site, "newsroom", "Newsroom", "https://id.example",
                                "rostra", "a client secret"))
    assert providers.get(site, "newsroom") is not None
    _once(server, "DELETE", f"OLD.site_id = '{site}'", failure, "site_oidc_providers",
          lambda: providers.remove(site, "newsroom"))
    assert providers.get(site, "newsroom") is None
    assert _count(server, site_oidc_providers, site_oidc_providers.c.site_id == site) == 0


@pytest.mark.parametrize("failure", FAILURES, ids=IDS)
def test_a_sign_on_secret_is_made_and_dropped(pg_live_server: LiveServer,
                                              failure: str) -> None:
    server = pg_live_server
    site = server.add_site("s" + secrets.token_hex(5))
    accounts = server.services.accounts
    key = f"sso_secret:{site}"
    made: list[str] = []
    _once(server, "INSERT", f"NEW.key = '{key}'", failure, "meta",
          lambda: made.append(accounts.make_secret(site)))
    assert accounts.secret(site, fresh=True) == made[0]
    _once(server, "DELETE", f"OLD.key = '{key}'", failure, "meta",
          lambda: accounts.disable(site))
    assert accounts.secret(site, fresh=True) is None
    assert _count(server, meta, meta.c.key == key) == 0
