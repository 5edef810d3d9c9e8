"""The queue shows each author's earned trust on their history line, and the trust
rule that held a comment as its reason."""

from __future__ import annotations

from tests.admin.conftest import Newsroom
from tests.conftest import ORIGIN


def test_it_shows_the_authors_trust_and_the_rule_that_held_it(newsroom: Newsroom) -> None:
    site = newsroom.site_a
    newsroom.server.add_site(site, [ORIGIN], moderation={
        "toxicity": False, "rate_limits": {"post_author": ""},
        "trust": {"links_need_approved": 1, "trusted_after": 1}})
    first = newsroom.held("Read https://example.org/budget for the figures.", name="Gus")
    doc = newsroom.owner.page("/admin/queue", site=site)
    [item] = doc.xpath(f'//article[@data-id="{first}"]')
    assert item.xpath('.//li[@data-code="trust_links"]')
    [line] = item.xpath('.//*[@data-history="trust"]')
    assert line.get("data-level") == "new" and "0 approved" in line.text_content()
    newsroom.owner.post("/admin/act", {"action": "approve", "id": [first]})
    second = newsroom.held("Back again, but without any links this time.", name="Gus")
    assert newsroom.reader("Gus").page("/story/1")["comments"][0]["id"] == second
    doc = newsroom.owner.page(f"/admin/comments/{second}")
    [line] = doc.xpath('//*[@data-history="trust"]')
    assert line.get("data-level") == "trusted" and "1 approved" in line.text_content()
