"""An erasure on request tells a site's webhook receivers that the person's comments
were deleted, from the command line as from the server: `rostra privacy forget` ran on
services without the outbox hook, queued no `comment.deleted` call, and receivers kept
their copies of the comments, while the same erasure run by the server's services
queued one per comment."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from click.testing import CliRunner

from rostra.services.personal_data import PersonalData
from tests.notify.conftest import NotifyServer, Receiver, payload
from tests.notify.test_webhooks import run, site_calling


def _deleted_calls(receiver: Receiver, since: int) -> dict[int, dict[str, Any]]:
    bodies = [payload(call) for call in receiver.calls[since:]]
    assert all(b["event"] == "comment.deleted" for b in bodies), bodies
    return {b["comment"]["id"]: b["comment"] for b in bodies}


def _posts(notify: NotifyServer, http: httpx.Client, site: str, email: str,
           name: str) -> list[int]:
    """Two comments of a person: one another reader replied to (it stays as a tombstone),
    one alone."""
    person = notify.reader(http, site, name)
    answered = person.post("/gone/", f"Words of {name}", email=email).json()["comment"]["id"]
    notify.reader(http, site, "Ben").post("/gone/", "A reply", parent_id=answered)
    alone = person.post("/gone/", f"More words of {name}", email=email).json()["comment"]["id"]
    return [answered, alone]


def test_the_command_lines_erasure_tells_webhooks_as_the_servers_does(
    notify: NotifyServer, http: httpx.Client, receiver: Receiver
) -> None:
    from rostra.cli import main

    site = site_calling(notify, http, receiver)
    ana_email = f"ana-{secrets.token_hex(4)}@example.org"
    cid_email = f"cid-{secrets.token_hex(4)}@example.org"
    ana = _posts(notify, http, site, ana_email, "Ana Secretname")
    cid = _posts(notify, http, site, cid_email, "Cid Othername")
    assert run(notify) == 6  # comment.created for each
    told = len(receiver.calls)

    # Through the command line, a process of its own without the server's hooks.
    done = CliRunner().invoke(main, ["--database-url", notify.live.settings.database_url,
                                     "privacy", "forget", ana_email, "--yes"])
    assert done.exit_code == 0, done.output
    assert run(notify) == 2
    from_cli = _deleted_calls(receiver, told)
    told = len(receiver.calls)

    # Through the server's own services (the hooks the server installs).
    PersonalData(notify.live.services.comments).forget(cid_email, actor="admin")
    assert run(notify) == 2
    from_server = _deleted_calls(receiver, told)

    assert sorted(from_cli) == sorted(ana) and sorted(from_server) == sorted(cid)
    for comment in [*from_cli.values(), *from_server.values()]:
        assert comment["author"] == {"name": None, "website": None}
        assert (comment["text"], comment["html"], comment["state"]) == ("", "", "deleted")
    shape = {k for c in from_server.values() for k in c}
    assert {k for c in from_cli.values() for k in c} == shape
