"""An erasure on request (`rostra privacy forget`) reaches the person's reports and
votes on other people's comments: a report's note is their own words (often about
themselves), and each report and vote kept their address hash. Both stayed after the
erasure, still under the person's voter id and account. The report and the vote still
count (moderation and scores stand); the note and the address hash go."""

from __future__ import annotations

import json
import secrets

import httpx
from click.testing import CliRunner
from sqlalchemy import select

from rostra.cli import main
from rostra.store.moderation_tables import flags
from rostra.store.tables import votes
from tests.api.test_sso import signed
from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import new_site


def test_an_erasure_takes_the_persons_words_and_address_out_of_reports_and_votes(
    mserver: LiveServer, http: httpx.Client
) -> None:
    site = new_site(mserver)
    secret = mserver.services.accounts.make_secret(site)
    email = f"ana-{secrets.token_hex(4)}@example.org"
    ana = Reader("Ana Kowalska", http, site, ip="198.51.100.31")
    ben = Reader("Ben Brown", http, site, ip="198.51.100.32")
    assert ana.post("/story", "My own comment.", email=email).status_code == 201
    assert ana.voter
    targets = [ben.post("/story", f"Ben's comment {n}.").json()["comment"]["id"]
               for n in range(2)]
    # Anonymous, from the browser she posted with: a report and a vote.
    flagged = http.post(f"/api/comments/{targets[0]}/flag", headers=ana.headers(), json={
        "reason": "other", "note": "Ana Kowalska here: this is about my family."})
    assert flagged.status_code == 202, flagged.text
    assert ana.vote(targets[0], 1).status_code == 200
    # Signed in by the site: the same again, as her account.
    member = {**ana.headers(), "X-Rostra-SSO": signed(secret, id="ana", name="Ana K.",
                                                       email=email)}
    del member["X-Rostra-Voter"]
    flagged = http.post(f"/api/comments/{targets[1]}/flag", headers=member, json={
        "reason": "abuse", "note": "Kowalska again: he names my street."})
    assert flagged.status_code == 202, flagged.text
    voted = http.post(f"/api/comments/{targets[1]}/vote", headers=member, json={"value": -1})
    assert voted.status_code == 200, voted.text
    ben_flag = http.post(f"/api/comments/{targets[1]}/flag", headers=ben.headers(), json={
        "reason": "spam", "note": "Ben's own note."})
    assert ben_flag.status_code == 202, ben_flag.text

    cli = ["--database-url", mserver.settings.database_url, "privacy"]
    exported = json.loads(CliRunner().invoke(main, [*cli, "export", email]).output)
    assert [(r["comment_id"], r["note"]) for r in exported["reports"]] == [
        (targets[0], "Ana Kowalska here: this is about my family."),
        (targets[1], "Kowalska again: he names my street.")]
    assert [(v["comment_id"], v["value"]) for v in exported["votes"]] == [
        (targets[0], 1), (targets[1], -1)]
    assert "Ben's own note" not in json.dumps(exported)

    done = CliRunner().invoke(main, [*cli, "forget", email, "--yes"])
    assert done.exit_code == 0, done.output

    with mserver.services.db.read() as conn:
        reports = conn.execute(select(flags.c.comment_id, flags.c.reason, flags.c.note,
                                      flags.c.ip_hash).where(flags.c.comment_id.in_(targets))
                               .order_by(flags.c.comment_id, flags.c.reason)).all()
        cast = conn.execute(select(votes.c.comment_id, votes.c.value, votes.c.ip_hash)
                            .where(votes.c.comment_id.in_(targets))
                            .order_by(votes.c.comment_id)).all()
    ben_hash = reports[-1].ip_hash if reports else None
    assert [(r.comment_id, r.reason, r.note) for r in reports] == [
        (targets[0], "other", None), (targets[1], "abuse", None),
        (targets[1], "spam", "Ben's own note.")]
    assert [r.ip_hash is None for r in reports] == [True, True, False] and ben_hash
    assert [(v.comment_id, v.value, v.ip_hash) for v in cast] == [
        (targets[0], 1, None), (targets[1], -1, None)]
