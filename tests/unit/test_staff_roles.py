"""Staff roles per site: an owner does everything on their sites, a moderator moderates,
nobody acts on a site they hold no role on; an admin acts everywhere."""

from __future__ import annotations

import pytest

from rostra.api.staff_auth import Role, Staff, require_role
from rostra.core.errors import Forbidden


def test_it_grants_each_role_what_it_covers_on_its_own_sites() -> None:
    owner = Staff(1, "Olga", roles={"news": Role.OWNER})
    moderator = Staff(2, "Mo", roles={"news": Role.MODERATOR, "blog": Role.MODERATOR})
    admin = Staff(None, "admin-token", is_admin=True)
    assert owner.can("news", Role.OWNER) and owner.can("news", Role.MODERATOR)
    assert moderator.can("news", Role.MODERATOR) and moderator.can("news")
    assert not moderator.can("news", Role.OWNER)
    for someone in (owner, moderator):
        assert not someone.can("other", Role.MODERATOR)
        assert not someone.can("other", Role.OWNER)
    assert admin.can("other", Role.OWNER)
    assert owner.sites(["blog", "news", "other"]) == ["news"]
    assert moderator.sites(["blog", "news", "other"]) == ["blog", "news"]
    assert admin.sites(["blog", "news"]) == ["blog", "news"]
    assert Staff(3, "Nobody").sites(["news"]) == []


def test_it_refuses_a_role_not_held_with_a_403_that_says_which() -> None:
    moderator = Staff(2, "Mo", roles={"news": Role.MODERATOR})
    require_role(moderator, "news")
    require_role(moderator, "news", Role.MODERATOR)
    for site, role in (("news", Role.OWNER), ("other", Role.MODERATOR)):
        with pytest.raises(Forbidden) as refused:
            require_role(moderator, site, role)
        assert str(refused.value) == f"you are not {role.value} of site {site!r}"
        assert refused.value.extra["code"] == "forbidden"
