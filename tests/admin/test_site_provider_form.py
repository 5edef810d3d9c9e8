"""A site owner's own sign-in providers, from the settings page: an issuer that is not a
web address, values too long, more providers than a site may have, a name taken (SQLite
and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest

from rostra.services.site_providers import MAX_PER_SITE
from tests.admin.conftest import Newsroom, parse


def _add(room: Newsroom, **fields: str) -> Any:
    form = {"op": "add", "name": "newsroom", "label": "Newsroom ID",
            "issuer": "https://id.news.example", "client_id": "rostra", **fields}
    return room.owner.post(f"/admin/sites/{room.site_a}/providers", form)


def _names(room: Newsroom) -> list[str]:
    return [p.name for p in room.server.services.site_providers.of_site(room.site_a)]


@pytest.mark.parametrize(("fields", "message"), [
    ({"issuer": "id.news.example"}, "issuer: an https address"),
    ({"issuer": "https://id.news.example/" + "x" * 500}, "issuer, client_id or scopes: too long"),
    ({"client_id": "c" * 301}, "issuer, client_id or scopes: too long"),
], ids=["no-scheme", "long-issuer", "long-client-id"])
def test_it_refuses_a_provider_it_could_not_use(newsroom: Newsroom, fields: dict[str, str],
                                                message: str) -> None:
    refused = _add(newsroom, **fields)
    assert refused.status_code == 422
    assert message in " ".join(parse(refused).xpath("string(//main)").split())
    assert _names(newsroom) == []


def test_a_site_has_each_name_once_and_at_most_its_share_of_providers(
    newsroom: Newsroom
) -> None:
    assert _add(newsroom, name="p0").status_code == 303
    taken = _add(newsroom, name="p0")
    assert taken.status_code == 409
    assert f"site '{newsroom.site_a}' has a provider 'p0' already" in \
        " ".join(parse(taken).xpath("string(//main)").split())
    for n in range(1, MAX_PER_SITE):
        assert _add(newsroom, name=f"p{n}").status_code == 303
    one_more = _add(newsroom, name="extra")
    assert one_more.status_code == 422
    assert f"at most {MAX_PER_SITE} providers per site" in \
        " ".join(parse(one_more).xpath("string(//main)").split())
    assert len(_names(newsroom)) == MAX_PER_SITE and "extra" not in _names(newsroom)
