"""The audit log's date and page filters: a day range finds what was done in it, bad
dates and pages are named on the page, and the JSON refuses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.admin.conftest import Newsroom, parse


def test_it_filters_the_audit_log_by_day_and_names_bad_filters(newsroom: Newsroom) -> None:
    room = newsroom
    held = room.held("A comment to approve")
    assert room.owner.post(f"/admin/act?only={held}", {"action": "approve"}).status_code == 303
    today = datetime.now(UTC).date()
    # Around midnight UTC the entry may fall on either day: take both.
    days = {"since": (today - timedelta(days=1)).isoformat(),
            "until": (today + timedelta(days=1)).isoformat()}

    def targets(**params: str) -> list[str]:
        response = room.owner.get("/admin/audit.json", site=room.site_a, **params)
        assert response.status_code == 200, response.text
        return [e["target"] for e in response.json()["entries"]]

    assert targets(**days) == [f"comment:{held}"]
    assert targets(since=(today + timedelta(days=2)).isoformat()) == []
    assert targets(until=(today - timedelta(days=2)).isoformat()) == []
    assert targets(page="2") == []
    for params, message in [({"since": "yesterday"}, "since: a date such as 2024-05-31"),
                            ({"until": "2024-13-01"}, "until: a date such as 2024-05-31"),
                            ({"page": "second"}, "page: a whole number")]:
        page = room.owner.get("/admin/audit", site=room.site_a, **params)
        assert page.status_code == 200
        doc = parse(page)
        assert doc.xpath('string(//p[@role="alert"])') == message
        assert doc.xpath('//table[contains(@class,"audit")]/tbody/tr/@data-target') == []
        refused = room.owner.http.get("/admin/audit.json", params={"site": room.site_a, **params},
                                      headers={"Accept": "application/json"})
        assert (refused.status_code, refused.json()["detail"]) == (422, message)
