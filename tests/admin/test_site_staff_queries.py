"""The owner's Staff page reads the reader accounts tied to its members with one query,
however many members the site has, and shows each member's own (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets

from tests.admin.conftest import Newsroom, staff_service
from tests.conftest import statements_on


def _tie(room: Newsroom, user_id: int, subject: str, site: str | None = None) -> None:
    site = site or room.site_a
    room.server.services.accounts.sign_in(site, subject, subject, None)
    staff_service(room.server).link_reader(user_id, site, subject)


def _tied_by_name(room: Newsroom) -> tuple[dict[str, str], list[str]]:
    with statements_on(room.server, "reader_accounts") as seen:
        doc = room.owner.page(f"/admin/sites/{room.site_a}/staff")
    rows = doc.xpath("//table/tbody/tr")
    return {r.xpath("string(td[1])"): r.xpath("string(td[3])") for r in rows}, seen


def test_the_staff_page_reads_tied_readers_in_one_query(newsroom: Newsroom) -> None:
    room = newsroom
    service = staff_service(room.server)
    mod = service.by_name(room.moderator.name)
    _tie(room, mod.id, "email:mo@a.example")
    _tie(room, mod.id, "email:mo2@a.example")
    # Tied on site B: not this page's business.
    _tie(room, service.by_name(room.outsider.name).id, "email:b@b.example", room.site_b)
    shown, few = _tied_by_name(room)
    assert shown == {room.owner.name: "—",
                     room.moderator.name: "email:mo2@a.example, email:mo@a.example"}
    tag = secrets.token_hex(3)
    for n in range(5):
        account = service.create_user(f"extra{n}-{tag}", "correct horse battery")
        service.grant(account.id, room.site_a, "moderator")
        _tie(room, account.id, f"email:extra{n}-{tag}@a.example")
    shown, many = _tied_by_name(room)
    assert len(shown) == 7
    assert shown[f"extra3-{tag}"] == f"email:extra3-{tag}@a.example"
    assert len(many) == len(few) == 1, many
