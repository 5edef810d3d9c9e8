"""An erasure on request (`rostra privacy forget`) takes the person's name out of the
bans placed from their comments: a ban from a comment was labelled "author of comment N
(Ana …)", in the ban and in its audit entries, and kept that after the erasure. The label
now reads "author of comment N"; the ban stays in force."""

from __future__ import annotations

import json
import secrets

import httpx
from click.testing import CliRunner
from sqlalchemy import select

from rostra.cli import main
from rostra.services.moderation import ModerationService
from rostra.store.moderation_tables import audit_log, bans
from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site


def _ban(http: httpx.Client, site: str, kind: str, comment_id: int) -> int:
    placed = http.post("/api/moderation/bans", headers=STAFF, json={
        "site": site, "kind": kind, "comment_id": comment_id, "reason": "abuse"})
    assert placed.status_code == 201, placed.text
    return int(placed.json()["ban"]["id"])


def test_an_erasure_takes_the_name_out_of_bans_from_the_persons_comments(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver)
    email = f"ana-{secrets.token_hex(4)}@example.org"
    ana = Reader("Ana Kowalska", http, site, ip="198.51.100.23")
    ben = Reader("Ben Brown", http, site)
    hers = ana.post("/story", "A comment that earns a ban.", email=email)
    his = ben.post("/story", "Another that earns one.")
    assert hers.status_code == 201 and his.status_code == 201, (hers.text, his.text)
    hers_id, his_id = hers.json()["comment"]["id"], his.json()["comment"]["id"]
    by_email = _ban(http, site, "email", hers_id)
    by_address = _ban(http, site, "ip", hers_id)
    by_voter = _ban(http, site, "voter", his_id)
    ModerationService(mserver.services.comments).extend(by_email, 86400, actor="mod")

    done = CliRunner().invoke(main, ["--database-url", mserver.settings.database_url,
                                     "privacy", "forget", email, "--yes"])
    assert done.exit_code == 0, done.output

    with mserver.services.db.read() as conn:
        labels = dict(conn.execute(select(bans.c.id, bans.c.label).where(
            bans.c.id.in_([by_email, by_address, by_voter]))).all())
        entries = conn.execute(select(audit_log).where(audit_log.c.target.in_(
            [f"ban:{by_email}", f"ban:{by_address}"]))).all()
    assert labels == {
        by_email: f"author of comment {hers_id}",
        by_address: f"address of author of comment {hers_id}",
        by_voter: f"author of comment {his_id} (Ben Brown)",  # not erased: stays
    }
    assert len(entries) == 3  # two bans and the extension
    for entry in entries:
        kept = json.dumps([entry.before, entry.after, entry.reason])
        assert "Kowalska" not in kept, kept
        assert f"author of comment {hers_id}" in kept
        assert entry.action in ("ban", "extend_ban") and entry.actor
    # The bans stay in force: the address is still refused.
    active = {b["id"]: b["active"] for b in
              ModerationService(mserver.services.comments).list_bans(site)}
    assert active[by_email] and active[by_address]
    again = Reader("Ana", http, site).post("/story", "Back again.", email=email)
    assert again.status_code == 422 and again.json()["reasons"] == ["banned"]
