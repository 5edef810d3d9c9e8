"""Sites and settings from the workspace, validation messages, settings taking effect on
the public API, site staff, and the dashboard's numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree

from rostra.store import queries
from tests.admin.conftest import Newsroom, parse
from tests.conftest import ORIGIN


def _settings_form(room: Newsroom) -> dict[str, str]:
    """The settings form's current values, as a browser would send them back."""
    doc = room.owner.page(f"/admin/sites/{room.site_a}/settings")
    form = doc.xpath('//form[contains(@class,"settings")]')[0]
    values: dict[str, str] = {}
    for field in form.xpath('.//input[@name] | .//textarea[@name] | .//select[@name]'):
        name = field.get("name")
        if field.tag == "select":
            chosen = field.xpath('.//option[@selected]/@value') or field.xpath('.//option/@value')
            values[name] = chosen[0]
        elif field.tag == "textarea":
            values[name] = field.text or ""
        elif field.get("type") == "checkbox":
            if field.get("checked") is not None:
                values[name] = field.get("value")
        else:
            values[name] = field.get("value") or ""
    return values


def _save(room: Newsroom, **changes: str) -> Any:
    values = {**_settings_form(room), **changes}
    return room.owner.post(f"/admin/sites/{room.site_a}/settings", values)


def test_it_creates_a_site_with_clear_messages(newsroom: Newsroom) -> None:
    room = newsroom
    site_id = "n" + room.site_a
    bad = room.admin.post("/admin/sites/new", {"id": "Bad Id", "name": "X", "origins": ""})
    assert bad.status_code == 422
    assert "site id" in parse(bad).xpath('string(//p[@role="alert"])')
    bad = room.admin.post("/admin/sites/new", {"id": site_id, "name": "X",
                                               "origins": "not a url"})
    assert "not an origin" in parse(bad).xpath('string(//p[@role="alert"])')
    ok = room.admin.post("/admin/sites/new", {"id": site_id, "name": "Daily News",
                                              "origins": "https://daily.example\n"})
    assert ok.status_code == 303
    assert room.server.services.sites.get(site_id).origins == ("https://daily.example",)
    again = room.admin.post("/admin/sites/new", {"id": site_id, "name": "Again"})
    assert again.status_code == 409


@pytest.mark.parametrize(("changes", "message"), [
    ({"edit_window_minutes": "ten"}, "edit_window_minutes: must be a whole number"),
    ({"edit_window_minutes": "100000"}, "edit_window_seconds: must be a whole number from 0"),
    ({"toxicity_hold": "0.99", "toxicity_refuse": "0.5"}, "toxicity_nudge <= toxicity_hold"),
    ({"toxicity_hold": "high"}, "toxicity_hold: must be a number"),
    ({"moderator_emails": "editor@news.example\nnot-an-email"},
     "moderator_emails: must be a list of email addresses"),
    ({"languages": "english"}, "languages: must be a list of language codes"),
    ({"origins": "ftp://x"}, "not an origin"),
    ({"thread_creation": "sometimes"}, "thread_creation: must be one of"),
])
def test_it_explains_what_is_wrong_with_a_setting(newsroom: Newsroom, changes: dict[str, str],
                                                  message: str) -> None:
    room = newsroom
    before = room.server.services.sites.get(room.site_a)
    response = _save(room, **changes)
    assert response.status_code == 422
    assert message in parse(response).xpath('string(//p[@role="alert"])')
    assert room.server.services.sites.get(room.site_a) == before
    # The form keeps what was typed.
    field, value = next(iter(changes.items()))
    doc = parse(response)
    shown = doc.xpath(f'//*[@name="{field}"]')[0]
    typed = shown.text if shown.tag == "textarea" else shown.get("value")
    if shown.tag != "select":
        assert typed == value


def test_it_applies_a_setting_to_the_public_api(newsroom: Newsroom) -> None:
    room = newsroom
    reader = room.reader("Nina")
    held = reader.post("/story/2", "Held under the hold-everything policy")
    assert held.json()["comment"]["state"] == "pending"
    assert _save(room, mode="post", edit_window_minutes="5",
                 moderator_emails="desk@news.example").status_code == 303
    published = reader.post("/story/2", "Published at once now")
    assert published.status_code == 201
    assert published.json()["comment"]["state"] == "approved"
    assert published.json()["editable_until"]
    settings = room.server.services.sites.settings_of(room.site_a)
    assert settings.edit_window_seconds == 300
    assert settings.notifications["moderator_emails"] == ["desk@news.example"]
    # Keys the form does not show are kept.
    assert settings.moderation["rate_limits"] == {"post_author": ""}
    assert _save(room, thread_creation="closed").status_code == 303
    refused = reader.post("/story/never-seen", "A new page")
    assert refused.status_code == 404 and refused.json()["code"] == "thread_not_found"
    change = room.owner.get("/admin/audit.json", site=room.site_a,
                            action="site_settings").json()["entries"]
    assert change[0]["before"]["settings"]["thread_creation"] == "open"
    assert change[0]["after"]["settings"]["thread_creation"] == "closed"


def test_it_lets_an_owner_give_and_take_roles(newsroom: Newsroom) -> None:
    room = newsroom
    assert room.outsider.get("/admin/queue", site=room.site_a).status_code == 403
    response = room.owner.post(f"/admin/sites/{room.site_a}/staff",
                               {"name": room.outsider.name, "role": "moderator"})
    assert response.status_code == 303
    assert room.outsider.get("/admin/queue", site=room.site_a).status_code == 200
    room.owner.post(f"/admin/sites/{room.site_a}/staff",
                    {"name": room.outsider.name, "role": "none"})
    assert room.outsider.get("/admin/queue", site=room.site_a).status_code == 403
    unknown = room.owner.post(f"/admin/sites/{room.site_a}/staff",
                              {"name": "nobody-here", "role": "owner"})
    assert unknown.status_code == 404
    grants = room.owner.get("/admin/audit.json", site=room.site_a, action="grant").json()
    assert [e["after"]["role"] for e in grants["entries"]] == [None, "moderator"]


def test_it_lets_an_owner_tie_a_staff_members_reader_account(newsroom: Newsroom) -> None:
    room = newsroom
    accounts = room.server.services.accounts
    reader = accounts.sign_in(room.site_a, "email:mo@a.example", "Mo", "mo@a.example",
                              email_verified=True)

    def is_staff() -> bool:
        with room.server.services.db.read() as conn:
            return reader.id in queries.staff_accounts(conn, room.site_a, [reader.id])

    path = f"/admin/sites/{room.site_a}/staff/readers"
    # Only an owner of the site ties accounts; an unknown account is refused, named.
    assert room.moderator.post(path, {"name": room.moderator.name, "subject":
                                      "email:mo@a.example", "op": "tie"}).status_code == 403
    unknown = room.owner.post(path, {"name": room.moderator.name,
                                     "subject": "email:nobody@a.example", "op": "tie"})
    assert unknown.status_code == 404
    assert "signs in to comment once first" in parse(unknown).xpath(
        'string(//p[@role="alert"])')
    assert not is_staff()
    tied = room.owner.post(path, {"name": room.moderator.name, "subject": "email:mo@a.example",
                                  "op": "tie"})
    assert tied.status_code == 303
    assert is_staff()
    page = parse(room.owner.get(f"/admin/sites/{room.site_a}/staff"))
    row = page.xpath(f'//tr[td[1]="{room.moderator.name}"]/td/text()')
    assert row == [room.moderator.name, "moderator", "email:mo@a.example"]
    untied = room.owner.post(path, {"name": room.moderator.name,
                                    "subject": "email:mo@a.example", "op": "untie"})
    assert untied.status_code == 303
    assert not is_staff()
    entries = room.owner.get("/admin/audit.json", site=room.site_a,
                             action="staff_reader").json()["entries"]
    assert [(e["before"], e["after"]) for e in entries] == [
        ({"user": room.moderator.name, "reader": "email:mo@a.example"}, None),
        (None, {"user": room.moderator.name, "reader": "email:mo@a.example"})]


def test_it_creates_staff_accounts_for_an_administrator(newsroom: Newsroom) -> None:
    room = newsroom
    name = "new-" + room.site_a
    short = room.admin.post("/admin/staff", {"name": name, "password": "short"})
    assert short.status_code == 422
    assert room.admin.post("/admin/staff", {"name": name,
                                            "password": "long enough password"}).status_code == 303
    doc = room.admin.page("/admin/staff")
    assert name in doc.xpath('//table//td/text()')


def test_it_counts_the_sites_activity(newsroom: Newsroom) -> None:
    room = newsroom
    ids = [room.held(f"Comment {i}", name=f"P{i}", thread=f"/story/{i % 2}") for i in range(5)]
    room.moderator.post("/admin/act", {"action": "approve", "id": ids[:3]})
    room.moderator.post("/admin/act", {"action": "spam", "id": ids[3:4]})
    stats = room.moderator.get(f"/admin/sites/{room.site_a}/stats.json", days="7").json()
    today = datetime.now(UTC).date().isoformat()
    assert len(stats["per_day"]) == 7 and stats["per_day"][-1]["date"] == today
    assert stats["per_day"][-1] == {"date": today, "total": 5, "approved": 3, "pending": 1,
                                    "spam": 1, "rejected": 0, "deleted": 0}
    assert stats["total"] == 5 and stats["held"] == 5 and stats["held_share"] == 1.0
    assert stats["held_reasons"] == [{"reason": "pre_moderation", "count": 5}]
    assert stats["decisions"] == 4 and stats["median_seconds_to_decision"] >= 0
    assert [t["comments"] for t in stats["top_threads"]] == [3, 2]
    doc = room.moderator.page(f"/admin/sites/{room.site_a}", days="7")
    assert doc.xpath('string(//dd[@data-figure="total"])') == "5"
    charts = doc.xpath('//*[local-name()="svg"]')
    assert len(charts) == 3
    for chart in charts:
        assert chart.get("role") == "img"
        # Each chart is well-formed SVG on its own.
        etree.fromstring(etree.tostring(chart))
    bars = charts[0].xpath('.//*[local-name()="rect"]')
    assert len(bars) == 3  # today's approved, pending and spam stacks
    assert room.moderator.get(f"/admin/sites/{room.site_a}/stats.json",
                              days="0").status_code == 422


def test_it_keeps_origins_normalised(newsroom: Newsroom) -> None:
    room = newsroom
    assert _save(room, origins=f"{ORIGIN}/\nHTTPS://Other.Example:443").status_code == 303
    assert room.server.services.sites.get(room.site_a).origins == (
        "https://news.example", "https://other.example")


def test_it_refuses_an_origin_another_site_allows(newsroom: Newsroom) -> None:
    room = newsroom
    taken = f"https://{room.site_a}.other.example"
    room.server.services.sites.create("o" + room.site_a, "Other", [taken])
    created = room.admin.post("/admin/sites/new", {"id": "p" + room.site_a, "name": "P",
                                                   "origins": taken})
    assert created.status_code == 409
    assert "already allowed by site" in parse(created).xpath('string(//p[@role="alert"])')
    before = room.server.services.sites.get(room.site_a)
    saved = _save(room, origins=f"{ORIGIN}\n{taken}")
    assert saved.status_code == 409
    assert f"origin {taken} is already allowed by site 'o{room.site_a}'" in parse(
        saved).xpath('string(//p[@role="alert"])')
    assert room.server.services.sites.get(room.site_a) == before


def test_it_shows_the_default_of_a_setting_left_empty(newsroom: Newsroom) -> None:
    from rostra.moderation.policy import Thresholds

    room = newsroom
    doc = room.owner.page(f"/admin/sites/{room.site_a}/settings")
    for name in ("toxicity_hold", "toxicity_refuse", "max_links", "flags_to_hold"):
        default = str(getattr(Thresholds(), name))
        label = doc.xpath(f'string(//label[@for="s-{name}"])')
        assert f"(empty: {default}, the default)" in " ".join(label.split()), label
        assert doc.xpath(f'//input[@name="{name}"]/@placeholder') == [default]
    assert doc.xpath('//input[@name="digest_minutes"]/@placeholder') == ["60"]
    assert "(empty: default)" not in " ".join(doc.xpath("string(//form)").split())
