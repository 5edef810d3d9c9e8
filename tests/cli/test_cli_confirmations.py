"""The command line asks before it erases, writes a person's data to a file when told,
and shows and changes how a site's readers sign in."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from rostra.cli import main
from rostra.config import Settings
from rostra.services.comments import NewComment, RequestContext
from rostra.services.container import Services
from rostra.store import migrate
from rostra.store.db import Database


def _cli(url: str, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--database-url", url, *args], input=input)


def _seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    db = Database(url)
    migrate.upgrade(db)
    services = Services.build(Settings(database_url=url, secret_key="c", classifier="off"), db)
    services.sites.create("gazette", "Gazette", ["https://news.example"])
    services.comments.post(NewComment(thread="/a/", site="gazette", name="Ana",
                                      email="ana@example.org", text="My own words"),
                           RequestContext(ip="203.0.113.9"))
    db.dispose()
    return url


def test_it_asks_before_erasing_and_erases_nothing_on_no(tmp_path: Path) -> None:
    url = _seeded(tmp_path)
    declined = _cli(url, "privacy", "forget", "ana@example.org", input="n\n")
    assert declined.exit_code == 1
    assert "Erase everything stored under ana@example.org? [y/N]" in declined.output
    assert "Aborted" in declined.output
    exported = tmp_path / "ana.json"
    written = _cli(url, "privacy", "export", "ana@example.org", "--output", str(exported))
    assert written.exit_code == 0, written.output
    assert f"wrote {exported}" in written.output
    assert [c["text"] for c in json.loads(exported.read_text())["comments"]] == ["My own words"]
    agreed = _cli(url, "privacy", "forget", "ana@example.org", input="y\n")
    assert agreed.exit_code == 0, agreed.output
    assert "erased 1 comment(s)" in agreed.output
    _cli(url, "privacy", "export", "ana@example.org", "--output", str(exported))
    assert json.loads(exported.read_text())["comments"] == []


def test_it_shows_and_changes_how_readers_sign_in(tmp_path: Path) -> None:
    url = _seeded(tmp_path)
    shown = _cli(url, "site", "sign-in", "gazette")
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines() == ["email links: on", "passkeys: on",
                                         "server providers: none (all)", "own providers: none"]
    changed = _cli(url, "site", "sign-in", "gazette", "--no-passkeys", "--no-email",
                   "--providers", " google, ,github ")
    assert changed.exit_code == 0, changed.output
    assert changed.output.splitlines()[:3] == ["email links: off", "passkeys: off",
                                               "server providers: none"]
    back = _cli(url, "site", "sign-in", "gazette", "--all-providers", "--passkeys")
    assert back.output.splitlines()[1:3] == ["passkeys: on", "server providers: none (all)"]
    missing = _cli(url, "site", "sign-in", "nowhere")
    assert missing.exit_code == 1 and "no site" in missing.output
