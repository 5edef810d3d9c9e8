"""A Rostra export's site settings are checked as the admin checks them: a file whose
settings a server would refuse stops the import, naming the line and the setting, instead
of leaving a site that silently runs on default settings (no moderation of its own)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from import_helpers import Rostra, counts

HEADER = '{"format":"rostra","type":"header","version":4}'


def _site(**settings: object) -> str:
    return json.dumps({"type": "site", "id": "news", "name": "News",
                       "origins": ["https://news.example"], "created_at": "2026-01-01T00:00:00Z",
                       "settings": settings})


@pytest.mark.parametrize(("settings", "message"), [
    ({"page_size": 20, "languages": "en"},
     'settings: languages: must be a list of language codes such as "en"'),
    ({"require_name": "yes"}, "settings: require_name: must be true or false"),
    ({"edit_window": 900}, "settings: unknown site setting(s): edit_window"),
    ({"sign_in": {"email": True, "sms": True}}, "settings: sign_in: unknown key(s): sms"),
    ({"sign_in": {"passkeys": "no"}}, "settings: sign_in.passkeys: must be true or false"),
    ({"sign_in": ["email"]}, "settings: sign_in: must be an object"),
    ({"moderation": {"toxicity": "yes"}}, "settings: moderation.toxicity: must be true or false"),
    ({"notifications": {"moderator_digest": "yes"}},
     "settings: notifications.moderator_digest: must be true or false"),
    ({"notifications": {"moderator_digest_seconds": 5}},
     "settings: notifications.moderator_digest_seconds: must be a whole number from 60 to "
     "604800"),
    ({"notifications": {"weekly": True}}, "settings: notifications: unknown key(s): weekly"),
], ids=["languages", "require-name", "unknown", "sign-in", "sign-in-passkeys", "sign-in-list",
        "moderation", "digest", "digest-seconds", "notifications-unknown"])
def test_it_refuses_a_site_whose_settings_a_server_would_refuse(
    rostra: Rostra, tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(HEADER + "\n" + _site(**settings) + "\n", encoding="utf-8")
    before = counts(rostra.db)
    result = rostra.run("import", "rostra", path)
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert f"line 2, element <site>: {message}" in text
    assert counts(rostra.db) == before


def test_it_restores_a_site_with_the_settings_of_its_file(rostra: Rostra, tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(HEADER + "\n" + _site(page_size=5, languages=["de"], require_name=False)
                    + "\n", encoding="utf-8")
    rostra.ok("import", "rostra", path)
    from rostra.services.sites import SiteService

    settings = SiteService(rostra.db).settings_of("news")
    assert (settings.page_size, settings.languages, settings.require_name) == (5, ("de",), False)
