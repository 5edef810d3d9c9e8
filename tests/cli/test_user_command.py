"""`rostra user`: passwords set from the command line, roles taken away, and the refusals
(a name taken, a password out of bounds, an account or a site that does not exist)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rostra.cli import main
from rostra.core.errors import Unauthorized
from rostra.core.sealing import Sealer
from rostra.moderation.ip_hashing import IpHasher
from rostra.services.staff import StaffService
from rostra.store.db import Database

PASSWORD = "correct horse battery"


class Cli:
    def __init__(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
        self.tmp_path = tmp_path

    def run(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["--database-url", self.url, *args], input=input)

    def password_file(self, text: str) -> str:
        path = self.tmp_path / "password"
        path.write_text(text + "\n", encoding="utf-8")
        return str(path)

    def signs_in(self, name: str, password: str) -> bool:
        db = Database(self.url)
        try:
            StaffService(db, IpHasher(db, "secret"), Sealer("")).login(name, password, ip=None)
            return True
        except Unauthorized:
            return False
        finally:
            db.dispose()

    def listed(self) -> dict[str, list[str]]:
        listing = self.run("user", "list")
        assert listing.exit_code == 0, listing.output
        return {line.split("\t")[0]: line.split("\t")[1:] for line in listing.output.splitlines()}


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    assert cli.run("site", "add", "news", "--name", "News").exit_code == 0
    added = cli.run("user", "add", "editor", "--site", "news", "--role", "owner",
                    "--password-file", cli.password_file(PASSWORD))
    assert added.exit_code == 0, added.output
    return cli


def test_it_sets_a_password_from_the_command_line(cli: Cli) -> None:
    changed = cli.run("user", "password", "editor", input="a new long password\n" * 2)
    assert changed.exit_code == 0, changed.output
    assert changed.output.splitlines()[-1] == "password of editor changed"
    assert not cli.signs_in("editor", PASSWORD)
    assert cli.signs_in("editor", "a new long password")
    missing = cli.run("user", "password", "nobody",
                      "--password-file", cli.password_file("whatever it is"))
    assert missing.exit_code == 1 and "no staff account" in missing.output


def test_it_refuses_passwords_out_of_bounds_and_changes_nothing(cli: Cli) -> None:
    for password, message in [("short", "password: at least"),
                              ("x" * 1001, "password: at most 1000 characters")]:
        refused = cli.run("user", "password", "editor",
                          "--password-file", cli.password_file(password))
        assert refused.exit_code == 1 and message in refused.output
        added = cli.run("user", "add", "writer", "--password-file", cli.password_file(password))
        assert added.exit_code == 1 and message in added.output
    assert cli.signs_in("editor", PASSWORD)
    assert set(cli.listed()) == {"editor"}


def test_it_refuses_a_name_taken_or_a_site_that_does_not_exist(cli: Cli) -> None:
    taken = cli.run("user", "add", "editor", "--password-file", cli.password_file(PASSWORD))
    assert taken.exit_code == 1
    assert "a staff account named 'editor' exists already" in taken.output
    nowhere = cli.run("user", "grant", "editor", "--site", "gazette", "--role", "moderator")
    assert nowhere.exit_code == 1 and "no site with id 'gazette'" in nowhere.output
    assert cli.listed() == {"editor": ["-", "news:owner"]}


def test_it_takes_a_role_away(cli: Cli) -> None:
    taken = cli.run("user", "grant", "editor", "--site", "news", "--role", "none")
    assert taken.exit_code == 0, taken.output
    assert taken.output.strip() == "editor: no roles"
    assert cli.listed() == {"editor": ["-", "-"]}


def test_it_makes_no_account_when_its_site_does_not_exist(cli: Cli) -> None:
    # `rostra user add NAME --site S` is one step: a typo in S leaves no account behind
    # (a second try with the right site would otherwise find the name taken).
    refused = cli.run("user", "add", "writer", "--site", "gazete",
                      "--password-file", cli.password_file(PASSWORD))
    assert refused.exit_code == 1 and "no site with id 'gazete'" in refused.output
    assert set(cli.listed()) == {"editor"}
    added = cli.run("user", "add", "writer", "--site", "news",
                    "--password-file", cli.password_file(PASSWORD))
    assert added.exit_code == 0, added.output
    assert cli.listed()["writer"] == ["-", "news:moderator"]
