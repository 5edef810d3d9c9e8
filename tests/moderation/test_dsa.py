"""EU DSA notice and action through HTTP on a live server: notices with receipts,
statements of reasons for every removal, one appeal, the transparency figures."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ORIGIN, LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site

GROUNDS = [{"code": "hate_speech", "label": "Incitement to hatred (§130 StGB)"},
           {"code": "defamation", "label": "Defamation (§186 StGB)"}]


def notice(reader: Reader, comment_id: int, **body: Any) -> httpx.Response:
    data = {"ground": "hate_speech", "explanation": "It calls for violence against a group.",
            "good_faith": True, **body}
    return reader.http.post(f"/api/comments/{comment_id}/notices", json=data,
                            headers=reader.headers())


def statements(reader: Reader, comment_id: int) -> list[dict[str, Any]]:
    response = reader.http.get(f"/api/comments/{comment_id}/statements",
                               headers=reader.headers(comment_id))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["statements"]
    return found


def posted(reader: Reader, text: str, thread: str = "/war-story") -> int:
    response = reader.post(thread, text)
    assert response.status_code == 201, response.text
    return int(response.json()["comment"]["id"])


def test_it_lists_the_sites_grounds_or_the_default_ones(mserver: LiveServer,
                                                        http: httpx.Client) -> None:
    site = new_site(mserver, dsa={"grounds": GROUNDS, "notice_hours": 12})
    body = http.get("/api/dsa/grounds", params={"site": site}).json()
    assert body["grounds"] == GROUNDS and body["notice_hours"] == 12
    plain = http.get("/api/dsa/grounds", params={"site": new_site(mserver)}).json()
    assert "illegal_or_harmful_speech" in [g["code"] for g in plain["grounds"]]


def test_it_refuses_a_bad_grounds_setting(mserver: LiveServer) -> None:
    from rostra.core.errors import InvalidInput

    try:
        new_site(mserver, dsa={"grounds": [{"code": "Bad Code", "label": "x"}]})
    except InvalidInput as exc:
        assert "moderation.dsa.grounds" in exc.detail
    else:
        raise AssertionError("a bad ground was accepted")


def test_it_takes_a_notice_and_removes_the_comment_with_a_statement(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    comment_id = posted(ana, "Those people should all be driven out of the town.")
    ben.voter = ben.voter or None
    response = notice(ben, comment_id, name="Ben Reader", email="ben@readers.example")
    assert response.status_code == 201, response.text
    receipt = response.json()["notice"]
    assert receipt["ground"] == "hate_speech" and receipt["status"] == "open"
    assert receipt["deadline_at"] > receipt["received_at"]
    assert "ben@readers.example" not in response.text  # never echoed

    queue = http.get("/api/moderation/notices", params={"site": site}, headers=STAFF).json()
    [item] = [n for n in queue["notices"] if n["id"] == receipt["id"]]
    assert item["notifier_email_given"] is True and "ben@readers" not in str(queue)
    assert item["comment"]["text"].startswith("Those people") and item["overdue"] is False

    decided = http.post(f"/api/moderation/notices/{receipt['id']}/decision", headers=STAFF,
                        json={"outcome": "illegal", "reason": "Incites hatred against a group"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["notice"]["outcome"] == "illegal"
    again = http.post(f"/api/moderation/notices/{receipt['id']}/decision", headers=STAFF,
                      json={"outcome": "no_action"})
    assert again.status_code == 409 and again.json()["code"] == "decided_already"

    assert comment_id not in [c["id"] for c in ana.page("/war-story")["comments"]]
    [statement] = statements(ana, comment_id)
    assert statement["source"] == "notice" and statement["ground_kind"] == "illegal"
    assert statement["ground"] == GROUNDS[0]["label"]
    assert "Incites hatred" in statement["facts"] and statement["automated_decision"] is False
    assert statement["appealable"] is True
    # Only the author may read it.
    other = http.get(f"/api/comments/{comment_id}/statements", headers=ben.headers())
    assert other.status_code == 401


def test_it_refuses_notices_that_say_too_little(mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    comment_id = posted(ana, "A perfectly ordinary opinion about the council budget.")
    assert notice(ben, comment_id, ground="treason").json()["code"] == "invalid_ground"
    assert notice(ben, comment_id, good_faith=False).json()["code"] == "good_faith_required"
    short = notice(ben, comment_id, explanation="bad")
    assert short.status_code == 422 and "explanation" in short.json()["detail"]
    bad_email = notice(ben, comment_id, email="not an address")
    assert bad_email.status_code == 422
    foreign = http.post(f"/api/comments/{comment_id}/notices", headers={
        "Origin": "https://elsewhere.example"}, json={
        "ground": "defamation", "explanation": "It says the mayor stole money.",
        "good_faith": True})
    assert foreign.status_code == 403
    missing = notice(ben, 10**15)
    assert missing.status_code == 404


def test_it_rate_limits_notices(mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver, dsa={"grounds": GROUNDS}, rate_limits={"notice": "2/hour"})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    comment_id = posted(ana, "Yet another comment that somebody will not like at all.")
    codes = [notice(ben, comment_id).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_it_gives_a_statement_for_a_moderators_removal_and_takes_one_appeal(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    comment_id = posted(ana, "The mayor is a crook and everyone in the council knows it.")
    rejected = http.post(f"/api/moderation/comments/{comment_id}/reject", headers=STAFF,
                         json={"reason": "Unfounded accusation"})
    assert rejected.status_code == 200
    [statement] = statements(ana, comment_id)
    assert statement["source"] == "moderator" and statement["restriction"] == "removal"
    assert "Unfounded accusation" in statement["facts"]

    appeal = ana.http.post(f"/api/comments/{comment_id}/appeal", headers=ana.headers(comment_id),
                           json={"statement_id": statement["id"],
                                 "text": "The minutes of the council meeting say so."})
    assert appeal.status_code == 201, appeal.text
    assert appeal.json()["statement"]["appeal"]["text"].startswith("The minutes")
    twice = ana.http.post(f"/api/comments/{comment_id}/appeal", headers=ana.headers(comment_id),
                          json={"statement_id": statement["id"],
                                "text": "And once more, with feeling this time."})
    assert twice.status_code == 409 and twice.json()["code"] == "appealed_already"
    waiting = http.get("/api/moderation/appeals", params={"site": site}, headers=STAFF).json()
    assert [a["id"] for a in waiting["appeals"]] == [statement["id"]]
    # The moderator who decided may not decide the appeal.
    same = http.post(f"/api/moderation/statements/{statement['id']}/appeal-decision",
                     headers=STAFF, json={"outcome": "reversed"})
    assert same.status_code == 403 and same.json()["code"] == "same_moderator"


def test_it_gives_statements_for_automated_holds_and_flags(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver, mode="all")
    ana = Reader("Ana", http, site)
    held_id = posted(ana, "Held because this site reviews every comment first.")
    [held] = statements(ana, held_id)
    assert held["source"] == "automated" and held["restriction"] == "visibility"
    assert held["automated_decision"] is True and held["automated_detection"] is True

    flagged_site = new_site(mserver, thresholds={"flags_to_hold": 2})
    ana2 = Reader("Ana", http, flagged_site)
    comment_id = posted(ana2, "An opinion that two readers find offensive for some reason.")
    for name in ("Ben", "Cy"):
        reader = Reader(name, http, flagged_site)
        reader.voter = None
        flag = http.post(f"/api/comments/{comment_id}/flag", json={"reason": "abuse"},
                         headers=reader.headers())
        assert flag.status_code == 202
    [by_flags] = statements(ana2, comment_id)
    assert by_flags["source"] == "flags" and by_flags["automated_detection"] is False
    # Approved again: the restriction is lifted, and nothing is left to appeal.
    http.post(f"/api/moderation/comments/{comment_id}/approve", headers=STAFF)
    [lifted] = statements(ana2, comment_id)
    assert lifted["lifted_at"] is not None and lifted["appealable"] is False


def test_it_exports_transparency_figures(mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    first = posted(ana, "First comment that a reader will report as defamation.")
    second = posted(ana, "Second comment that a reader will report as hate speech.")
    one = notice(ben, first, ground="defamation").json()["notice"]["id"]
    notice(ben, second)
    http.post(f"/api/moderation/notices/{one}/decision", headers=STAFF,
              json={"outcome": "no_action"})
    figures = http.get("/api/moderation/transparency", params={"site": site},
                       headers=STAFF).json()
    assert figures["notices"]["total"] == 2
    assert figures["notices"]["by_ground"] == {"defamation": 1, "hate_speech": 1}
    assert figures["notices"]["by_outcome"] == {"no_action": 1, "open": 1}
    assert figures["notices"]["median_hours_to_decide"] is not None
    assert figures["decisions"]["total"] == 0 and figures["appeals"]["total"] == 0
    bad = http.get("/api/moderation/transparency", params={
        "site": site, "from": "2026-02-01", "to": "2026-01-01"}, headers=STAFF)
    assert bad.status_code == 422
    assert http.get("/api/moderation/notices", params={"site": site}).status_code == 401


def test_it_shows_the_statement_page_and_takes_the_appeal_there(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    site = new_site(mserver)
    ana = Reader("Ana", http, site)
    comment_id = posted(ana, "Something a moderator will remove for breaking the rules.")
    http.post(f"/api/moderation/comments/{comment_id}/delete", headers=STAFF,
              json={"reason": "Off-topic advertising"})
    [statement] = statements(ana, comment_id)
    dsa = mserver.app.app.state.dsa
    token = dsa.tokens.statement_token(statement["id"])
    page = http.get("/dsa/statement", params={"token": token})
    assert page.status_code == 200 and "Off-topic advertising" in page.text
    assert 'id="appeal"' in page.text
    sent = http.post("/dsa/statement", data={"token": token, "text": "It was not an advert."},
                     headers={"Origin": ORIGIN})
    assert sent.status_code == 200 and 'id="thanks"' in sent.text
    assert statements(ana, comment_id)[0]["appeal"]["text"] == "It was not an advert."
    assert http.get("/dsa/statement", params={"token": "forged"}).status_code == 404


def test_it_reports_the_figures_on_the_command_line(mserver: LiveServer, http: httpx.Client,
                                                     tmp_path: Any) -> None:
    import csv
    import json
    from datetime import UTC, datetime

    from click.testing import CliRunner

    from rostra.cli import main

    site = new_site(mserver, dsa={"grounds": GROUNDS})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    comment_id = posted(ana, "A comment that a reader reports and a moderator removes.")
    notice_id = notice(ben, comment_id).json()["notice"]["id"]
    http.post(f"/api/moderation/notices/{notice_id}/decision", headers=STAFF,
              json={"outcome": "incompatible"})
    today = datetime.now(UTC).date().isoformat()
    runner = CliRunner()
    args = ["--database-url", mserver.settings.database_url, "report", "dsa",
            "--from", today, "--to", today, "--site", site]
    result = runner.invoke(main, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["notices"]["by_outcome"] == {"incompatible": 1}
    assert report["decisions"]["by_source"] == {"notice": 1}
    assert report["decisions"]["by_ground_kind"] == {"terms": 1}
    out = tmp_path / "dsa.csv"
    result = runner.invoke(main, [*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["section", "metric", "key", "value"]
    assert ["notices", "by_ground", "hate_speech", "1"] in rows
    assert ["decisions", "automated_share", "", "0.0"] in rows
    backwards = runner.invoke(main, [*args[:4], "--from", today, "--to", "2000-01-01"])
    assert backwards.exit_code != 0 and "--from must not be after --to" in backwards.output


def test_a_signed_in_readers_notices_are_theirs_from_any_browser(
    mserver: LiveServer, http: httpx.Client,
) -> None:
    # As with flags and votes: a signed-in reader is their account, whatever browser or
    # address they write from. Notices were keyed (and rate-limited) by browser and
    # address only, so an account could file without limit by switching addresses.
    from sqlalchemy import select

    from rostra.store.dsa_tables import dsa_notices
    from tests.api.test_sso import signed

    site = new_site(mserver, dsa={"grounds": GROUNDS}, rate_limits={"notice": "2/hour"})
    ana = Reader("Ana", http, site)
    comment_id = posted(ana, "A comment that one signed-in reader reports again and again.")
    secret = mserver.services.accounts.make_secret(site)
    ben = signed(secret, id="ben", name="Ben")
    codes = []
    for ip in ("198.51.100.11", "198.51.100.12", "203.0.113.99"):
        response = http.post(f"/api/comments/{comment_id}/notices", json={
            "ground": "hate_speech", "explanation": "It calls for violence against a group.",
            "good_faith": True}, headers={"Origin": ORIGIN, "X-Forwarded-For": ip,
                                          "X-Rostra-SSO": ben})
        codes.append(response.status_code)
    assert codes == [201, 201, 429]
    account = mserver.services.accounts.identify(site, ben)
    with mserver.services.db.read() as conn:
        reporters = conn.execute(select(dsa_notices.c.reporter)
                                 .where(dsa_notices.c.comment_id == comment_id)).scalars().all()
    assert reporters == [f"a:{account.id}"] * 2
