"""`rostra privacy forget --site SITE --subject SUBJECT` (and `privacy export` the same
way) erases one reader account, one with no address too: `privacy forget EMAIL` could
not find a single sign-on or provider account that has none. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets

import httpx
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from rostra.cli import main
from rostra.store.account_tables import reader_accounts
from rostra.store.tables import comments, votes
from tests.api.test_sso import signed
from tests.conftest import ORIGIN, LiveServer
from tests.moderation.conftest import new_site


def _cli(server: LiveServer, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", server.settings.database_url, *args])


def _post(http: httpx.Client, site: str, sso: str | None, text: str,
          **extra: str) -> httpx.Response:
    headers = {"Origin": ORIGIN, **({"X-Rostra-SSO": sso} if sso else {})}
    return http.post("/api/comments", headers=headers,
                     json={"site": site, "thread": "/story", "text": text, **extra})


def test_a_single_sign_on_account_without_an_address_is_exported_and_erased(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver)
    secret = mserver.services.accounts.make_secret(site)
    member = f"member-{secrets.token_hex(4)}"
    sso = signed(secret, id=member, name="Nameless Member")
    mine = _post(http, site, sso, "Words of a member without an address.")
    assert mine.status_code == 201, mine.text
    theirs = _post(http, site, None, "Somebody else's comment.", name="Pat",
                   email="pat@example.org")
    voted = http.post(f"/api/comments/{theirs.json()['comment']['id']}/vote",
                      json={"value": 1}, headers={"Origin": ORIGIN, "X-Rostra-SSO": sso})
    assert voted.status_code == 200, voted.text
    # Another member of another site with the same id is another account.
    other_site = new_site(mserver)
    other_sso = signed(mserver.services.accounts.make_secret(other_site), id=member,
                       name="Same id elsewhere")
    assert _post(http, other_site, other_sso, "Mine stays.").status_code == 201

    exported = _cli(mserver, "privacy", "export", "--site", site, "--subject", member)
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.output)
    assert [c["text"] for c in data["comments"]] == ["Words of a member without an address."]
    assert [a["id"] for a in data["accounts"]] == [member]
    assert [v["value"] for v in data["votes"]] == [1]

    done = _cli(mserver, "privacy", "forget", "--site", site, "--subject", member, "--yes")
    assert done.exit_code == 0, done.output
    assert "erased 1 comment(s)" in done.output and "1 sign-on account(s)" in done.output
    with mserver.services.db.read() as conn:
        row = conn.execute(select(comments.c.text, comments.c.author_name, comments.c.state)
                           .where(comments.c.id == mine.json()["comment"]["id"])).one()
        left = conn.execute(select(reader_accounts.c.site_id)
                            .where(reader_accounts.c.subject == member)).scalars().all()
        counted = conn.scalar(select(func.count()).select_from(votes).where(
            votes.c.comment_id == theirs.json()["comment"]["id"]))
    assert (row.text, row.author_name, row.state) == ("", None, "deleted")
    assert left == [other_site]
    assert counted == 1  # the vote still counts, without its address hash
    # Nobody with the address-less account left to find; the address way is unchanged.
    again = _cli(mserver, "privacy", "forget", "--site", site, "--subject", member, "--yes")
    assert again.exit_code != 0 and "no reader account" in again.output


def test_it_needs_an_address_or_an_account_and_not_both(
    mserver: LiveServer,
) -> None:
    for args in ([], ["--subject", "x"], ["--site", "s"], ["a@example.org", "--site", "s",
                                                          "--subject", "x"]):
        refused = _cli(mserver, "privacy", "forget", *args, "--yes")
        assert refused.exit_code == 2, (args, refused.output)
        assert "give EMAIL, or --site SITE with --subject SUBJECT" in refused.output
