"""Moderator alerts that could not be delivered are listed for the admin once per
address, with the newest failure; on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tests.notify.conftest import NotifyServer, address


def test_it_lists_an_address_that_failed_twice_once_with_its_newest_error(
    notify: NotifyServer, http: httpx.Client
) -> None:
    moderator, colleague = address(), address()
    site = notify.new_site(moderation={"mode": "all"},
                           notifications={"moderator_emails": [moderator, colleague]})
    notify.mailbox.refuse[moderator] = (552, "5.3.4 Message too big")
    try:
        assert notify.reader(http, site, "Ben").post("/b/", "First").status_code == 201
        notify.run(notify.worker().run_once())
        notify.mailbox.refuse[moderator] = (550, "5.1.1 Mailbox unavailable")
        assert notify.reader(http, site, "Cy").post("/b/", "Second").status_code == 201
        notify.run(notify.worker().run_once())
    finally:
        del notify.mailbox.refuse[moderator]
    assert len(notify.mailbox.to(colleague)) == 2
    failures = notify.runtime.staff_failures(site)
    assert [f["recipient"] for f in failures] == [moderator]
    assert "550" in str(failures[0]["error"]) and "552" not in str(failures[0]["error"])
