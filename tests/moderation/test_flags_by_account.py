"""A signed-in reader's flags count once, from whatever browser or address they come:
one account cannot hold a comment by flagging it again and again (SQLite and
PostgreSQL). The account was ignored: flags were keyed by browser or address only, so
one reader flagging from two addresses held the comment alone."""

from __future__ import annotations

import httpx

from tests.api.test_sso import signed
from tests.conftest import ORIGIN, LiveServer, Reader
from tests.moderation.conftest import new_site


def _flag(http: httpx.Client, comment_id: int, sso: str, ip: str) -> None:
    response = http.post(f"/api/comments/{comment_id}/flag", json={"reason": "abuse"},
                         headers={"Origin": ORIGIN, "X-Forwarded-For": ip, "X-Rostra-SSO": sso})
    assert response.status_code == 202, (ip, response.text)


def test_an_accounts_flags_count_once(mserver: LiveServer, http: httpx.Client) -> None:
    site = new_site(mserver, thresholds={"flags_to_hold": 2})
    ana = Reader("Ana", http, site)
    comment_id = ana.post("/story", "A comment one reader dislikes a lot.").json()["comment"]["id"]
    secret = mserver.services.accounts.make_secret(site)
    ben, cid = signed(secret, id="ben", name="Ben"), signed(secret, id="cid", name="Cid")
    for ip in ("198.51.100.1", "198.51.100.2", "203.0.113.77"):
        _flag(http, comment_id, ben, ip)
    assert comment_id in [c["id"] for c in ana.page("/story")["comments"]]
    _flag(http, comment_id, cid, "198.51.100.3")
    assert comment_id not in [c["id"] for c in ana.page("/story")["comments"]]
