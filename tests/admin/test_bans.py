"""The bans page: a moderator finds a site's bans (by name, reason, email or address),
extends one and lifts one; each change is audited and holds for the next post at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rostra.services.moderation import BanKind, BanRequest
from tests.admin.conftest import Newsroom


def _rows(room: Newsroom, **params: str) -> dict[int, object]:
    doc = room.moderator.page(f"/admin/sites/{room.site_a}/bans", **params)
    return {int(row.get("data-id")): row for row in doc.xpath("//tr[@data-id]")}


def test_it_finds_extends_and_lifts_bans(newsroom: Newsroom) -> None:
    room = newsroom
    troll = room.held("A troll's comment", name="Troll", email="troll@example.org")
    spammer = room.held("A spammer's comment", name="Spam King")
    by_email = room.moderator.post(f"/admin/comments/{troll}/ban", {
        "kind": "email", "duration": "1d", "reason": "threats in three threads"})
    by_ip = room.moderator.post(f"/admin/comments/{spammer}/ban", {
        "kind": "ip", "duration": "1h", "reason": "link spam"})
    assert by_email.status_code == by_ip.status_code == 303
    service = room.server.app.app.state.moderation.service
    bans = {b["reason"]: b for b in service.list_bans(room.site_a)}
    email_ban, ip_ban = bans["threats in three threads"], bans["link spam"]

    dashboard = room.moderator.page(f"/admin/sites/{room.site_a}")
    assert dashboard.xpath('//a[text()="Bans"]/@href') == [f"/admin/sites/{room.site_a}/bans"]
    everything = _rows(room)
    assert {email_ban["id"], ip_ban["id"]} <= set(everything)
    assert set(_rows(room, q="THREATS")) == {email_ban["id"]}  # words: label, reason, who
    assert set(_rows(room, q="troll@example.org")) == {email_ban["id"]}  # kept only hashed
    spammer_ip = room.reader("Spam King").ip
    assert set(_rows(room, q=spammer_ip)) == {ip_ban["id"]}
    assert _rows(room, q="nobody@example.org") == {}
    page = room.moderator.page(f"/admin/sites/{room.site_a}/bans", q="nothing-like-this")
    assert "No bans match." in " ".join(page.xpath("string(//table)").split())

    # Extend the hour-long ban to a week, from now.
    extended = room.moderator.post(
        f"/admin/sites/{room.site_a}/bans/{ip_ban['id']}/extend", {"duration": "7d"})
    assert extended.status_code == 303
    [after] = [b for b in service.list_bans(room.site_a) if b["id"] == ip_ban["id"]]
    ends = datetime.fromisoformat(after["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=6, hours=23) < ends - datetime.now(UTC) <= timedelta(days=7)
    forever = room.moderator.post(
        f"/admin/sites/{room.site_a}/bans/{ip_ban['id']}/extend", {"duration": "forever"})
    assert forever.status_code == 303
    [after] = [b for b in service.list_bans(room.site_a) if b["id"] == ip_ban["id"]]
    assert after["expires_at"] is None
    refused = room.reader("Spam King").post("/story/1", "Still here")
    assert refused.status_code == 422 and refused.json()["reasons"] == ["banned"]

    # Lift the email ban: the next post is allowed at once, and the page says why.
    lifted = room.moderator.post(f"/admin/sites/{room.site_a}/bans/{email_ban['id']}/lift",
                                 {"reason": "apologised", "q": "threats"})
    assert lifted.status_code == 303 and "q=threats" in lifted.headers["location"]
    assert email_ban["id"] not in _rows(room)
    gone = _rows(room, all="1")[email_ban["id"]]
    assert gone.get("data-active") == "false"
    assert "lifted by" in " ".join(gone.xpath("string(./td[@class='ends'])").split())
    back = room.reader("Troll").post("/story/1", "I am sorry", email="troll@example.org")
    assert back.status_code == 201, back.text
    audit = room.owner.get("/admin/audit.json", site=room.site_a).json()["entries"]
    actions = [(e["action"], e["target"]) for e in audit]
    assert ("extend_ban", f"ban:{ip_ban['id']}") in actions
    assert ("unban", f"ban:{email_ban['id']}") in actions
    [unban] = [e for e in audit if e["action"] == "unban"]
    assert unban["reason"] == "apologised"
    # A lifted ban stays lifted: it cannot be extended back to life.
    again = room.moderator.post(
        f"/admin/sites/{room.site_a}/bans/{email_ban['id']}/extend", {"duration": "7d"})
    assert again.status_code == 422


def test_it_keeps_other_sites_bans_out_of_reach(newsroom: Newsroom) -> None:
    room = newsroom
    service = room.server.app.app.state.moderation.service
    ban = service.ban(BanRequest(site_id=room.site_b, kind=BanKind.VOTER, value="abc",
                                 reason="elsewhere"), actor="test")
    # A moderator of site A sees neither site B's page nor its bans through site A's.
    assert room.moderator.get(f"/admin/sites/{room.site_b}/bans").status_code == 403
    assert room.moderator.post(f"/admin/sites/{room.site_b}/bans/{ban['id']}/lift",
                               {}).status_code == 403
    assert ban["id"] not in _rows(room, all="1")
    through_a = room.moderator.post(f"/admin/sites/{room.site_a}/bans/{ban['id']}/lift", {})
    assert through_a.status_code == 404
    assert service.list_bans(room.site_b)[0]["active"]
    assert room.moderator.post(f"/admin/sites/{room.site_a}/bans/x1/lift",
                               {}).status_code == 422
