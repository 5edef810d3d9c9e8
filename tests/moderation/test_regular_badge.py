"""The "Regular" badge: a site that turns it on shows readers which comments come from
commenters it trusts (moderation.trust), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rostra.core.errors import InvalidInput
from rostra.moderation.policy import parse_policy
from tests.conftest import LiveServer, Reader
from tests.moderation.conftest import STAFF, new_site


def flags(reader: Reader, thread: str) -> dict[int, bool]:
    """{comment id: whether it carries the badge} for every comment on the page."""
    out: dict[int, bool] = {}

    def walk(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            out[node["id"]] = node.get("regular", False)
            walk(node["replies"])

    walk(reader.page(thread)["comments"])
    return out


def approve(http: httpx.Client, comment_id: int) -> None:
    done = http.post(f"/api/moderation/comments/{comment_id}/approve", headers=STAFF)
    assert done.status_code == 200, done.text


@pytest.mark.parametrize("badge", [True, False])
def test_it_marks_trusted_commenters_where_the_site_wants_it(
        mserver: LiveServer, http: httpx.Client, badge: bool) -> None:
    site = new_site(mserver, trust={"trusted_after": 2, "regular_badge": badge})
    ana, ben = Reader("Ana", http, site), Reader("Ben", http, site)
    first = ana.post("/town", "The market moves to the square on Saturdays.").json()
    second = ana.post("/town", "Parking there is free after six.").json()
    newcomer = ben.post("/town", "Is the bakery still open on Sundays?").json()
    reply = ana.post("/town", "It is, until noon.", parent_id=newcomer["comment"]["id"]).json()
    assert flags(ana, "/town") == {c["comment"]["id"]: False
                                   for c in (first, second, newcomer, reply)}
    # Two approvals reach the site's line: Ana is trusted; Ben is not.
    approve(http, first["comment"]["id"])
    approve(http, second["comment"]["id"])
    shown = flags(ana, "/town")
    for mine in (first, second, reply):
        assert shown[mine["comment"]["id"]] is badge
    assert shown[newcomer["comment"]["id"]] is False
    # A rejection costs three approvals: the badge goes with the trust.
    late = ana.post("/town", "An aside that the moderators turn down.").json()
    done = http.post(f"/api/moderation/comments/{late['comment']['id']}/reject", headers=STAFF)
    assert done.status_code == 200
    assert not any(flags(ana, "/town").values())


def test_it_refuses_a_badge_setting_that_is_not_true_or_false() -> None:
    with pytest.raises(InvalidInput, match="regular_badge: must be true or false"):
        parse_policy({"trust": {"regular_badge": "yes"}})
    assert parse_policy({"trust": {"regular_badge": True}}).trust.regular_badge is True
