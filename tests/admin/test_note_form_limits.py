"""The notes page's form keeps a staff note within bounds, as the API does: at most five
sources, a text of at most 2000 characters, a comment of this site (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest

from tests.admin.conftest import Newsroom, parse


@pytest.mark.parametrize(("text", "sources", "message"), [
    ("Context", "\n".join(f"https://records.example/{n}" for n in range(6)),
     "sources: at most 5"),
    ("x" * 2001, "https://records.example/minutes", "text: at most 2000 characters"),
], ids=["six-sources", "long-text"])
def test_it_refuses_a_staff_note_out_of_bounds(newsroom: Newsroom, text: str, sources: str,
                                               message: str) -> None:
    room = newsroom
    held = room.held("The council never voted on the budget.")
    path = f"/admin/sites/{room.site_a}/notes"
    refused = room.owner.post(path, {"comment": str(held), "text": text, "sources": sources})
    assert refused.status_code == 422
    assert message in " ".join(parse(refused).xpath("string(//main)").split())
    for status in ("published", "proposed"):
        assert room.owner.page(path, status=status, comment=str(held)).xpath(
            '//tr[starts-with(@id, "note-")]') == []


def test_it_refuses_a_note_on_another_sites_comment(newsroom: Newsroom) -> None:
    room = newsroom
    elsewhere = room.held("On the other site", site=room.site_b)
    refused = room.admin.post(f"/admin/sites/{room.site_a}/notes", {
        "comment": str(elsewhere), "text": "Context", "sources": ""})
    assert refused.status_code == 422
    assert f"comment: no comment {elsewhere} on this site" in \
        " ".join(parse(refused).xpath("string(//main)").split())


def test_the_notes_page_answers_its_script_and_names_bad_requests(newsroom: Newsroom) -> None:
    room = newsroom
    held = room.held("The council never voted on the budget.")
    path = f"/admin/sites/{room.site_a}/notes"
    json = {"Accept": "application/json"}
    added = room.owner.post(path, {"comment": str(held), "text": "The minutes say otherwise",
                                   "sources": "https://council.example/minutes"}, headers=json)
    assert added.status_code == 201, added.text
    note = added.json()["note"]
    listed = room.owner.http.get(path, params={"status": "published"}, headers=json)
    assert [n["id"] for n in listed.json()["notes"]] == [note["id"]]
    withdrawn = room.owner.post(f"{path}/{note['id']}/withdraw", {"reason": "Outdated"},
                                headers=json)
    assert withdrawn.status_code == 200 and withdrawn.json()["note"]["status"] == "withdrawn"
    for url, form, message in [
        (path, {"comment": "first", "text": "Context"}, "comment: not an id"),
        (f"{path}/{note['id']}/bury", {}, "decision: publish, withdraw or reopen"),
        (f"{path}/latest/publish", {}, "note: not an id"),
        (f"/admin/sites/{room.site_b}/notes/{note['id']}/publish", {},
         f"note: no note {note['id']} on this site"),
    ]:
        refused = room.admin.post(url, form)
        assert refused.status_code == 422, url
        assert message in " ".join(parse(refused).xpath("string(//main)").split())
    listed = room.owner.http.get(path, params={"status": "withdrawn"}, headers=json)
    assert [n["id"] for n in listed.json()["notes"]] == [note["id"]]
