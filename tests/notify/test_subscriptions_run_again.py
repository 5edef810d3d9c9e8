"""Subscribing, confirming an address and ending subscriptions survive what PostgreSQL
may do to any transaction (a deadlock's victim, a connection lost on a statement or at
COMMIT): each ran outside ``attempts`` and answered 500. Each runs again, even after a
lost COMMIT (done twice, done once: one subscription, one confirmation email)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Select, func, select

from rostra.notify.tokens import AddressClaim
from rostra.store.notify_tables import notify_addresses, notify_outbox, notify_subscriptions
from tests.conftest import CONNECTION_LOST, DEADLOCK, first_try_fails
from tests.notify.conftest import NotifyServer, address

pytestmark = pytest.mark.postgres

FAILURES = [(DEADLOCK, False), (CONNECTION_LOST, False), (CONNECTION_LOST, True)]
IDS = ["deadlock", "lost on the statement", "lost at commit"]


def _count(notify: NotifyServer, query: Select[Any]) -> int:
    with notify.live.services.db.read() as conn:
        return int(conn.scalar(query) or 0)


@pytest.mark.parametrize("notify", ["postgres"], indirect=True)
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_a_subscription_whose_transaction_failed_is_made_once(
    notify: NotifyServer, http: httpx.Client, failure: str, at_commit: bool,
) -> None:
    site, email = notify.new_site(), address()
    with first_try_fails(notify.live, "INSERT", "true", failure, table="notify_subscriptions",
                         at_commit=at_commit) as tried:
        notify.subscribe(http, site, "/followed/", email)
        assert tried() == 2
    subs = select(func.count()).select_from(notify_subscriptions).join(
        notify_addresses, notify_addresses.c.id == notify_subscriptions.c.address_id
    ).where(notify_addresses.c.email == email)
    confirmations = select(func.count()).select_from(notify_outbox).where(
        notify_outbox.c.recipient == email, notify_outbox.c.kind == "confirm")
    assert _count(notify, subs) == 1
    assert _count(notify, confirmations) == 1


def _address_id(notify: NotifyServer, email: str) -> int:
    return _count(notify, select(notify_addresses.c.id).where(notify_addresses.c.email == email))


@pytest.mark.parametrize("notify", ["postgres"], indirect=True)
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_confirming_an_address_runs_again(
    notify: NotifyServer, http: httpx.Client, failure: str, at_commit: bool,
) -> None:
    site, email = notify.new_site(), address()
    notify.subscribe(http, site, "/confirmed/", email)
    claim = AddressClaim(_address_id(notify, email), email)
    condition = "NEW.confirmed_at IS NOT NULL AND OLD.confirmed_at IS NULL"
    with first_try_fails(notify.live, "UPDATE", condition, failure, table="notify_addresses",
                         at_commit=at_commit) as tried:
        row = notify.runtime.subscriptions.confirm(claim)
        assert tried() == 2
    assert row is not None and row.confirmed_at is not None


@pytest.mark.parametrize("notify", ["postgres"], indirect=True)
@pytest.mark.parametrize(("failure", "at_commit"), FAILURES, ids=IDS)
def test_ending_subscriptions_runs_again(
    notify: NotifyServer, http: httpx.Client, failure: str, at_commit: bool,
) -> None:
    site, email = notify.new_site(), address()
    notify.subscribe(http, site, "/ended/", email)
    address_id = _address_id(notify, email)
    with first_try_fails(notify.live, "DELETE", f"OLD.address_id = {address_id}", failure,
                         table="notify_subscriptions", at_commit=at_commit) as tried:
        notify.runtime.subscriptions.end(address_id, None)
        assert tried() == 2
    subs = select(func.count()).select_from(notify_subscriptions).where(
        notify_subscriptions.c.address_id == address_id)
    assert _count(notify, subs) == 0
