"""The "Staff" badge: comments of a reader account tied to a staff member with a role on
the site, or marked staff by the site's own single sign-on, through real HTTP on SQLite
and PostgreSQL. Readers cannot make it, and it goes when the person stops being staff."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner, Result

from rostra.cli import main
from rostra.services.sessions import SignInMethod
from rostra.services.staff import StaffService
from tests.api.test_sso import signed
from tests.conftest import ORIGIN, LiveServer, Reader

PASSWORD = "a long enough password"


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def rostra(server: LiveServer, *args: str) -> Result:
    """The command line, run against the test server's database (as an operator would,
    from another process: the server hears of it from the change bus or its polling)."""
    return CliRunner().invoke(main, ["--database-url", server.settings.database_url, *args])


def signed_in(server: LiveServer, site: str, subject: str, name: str) -> str:
    """A session of a reader who signed in by email as ``subject`` (what an email link
    or a provider leaves behind): the token the widget would keep."""
    reader = server.services.accounts.sign_in(site, subject, name, subject.partition(":")[2],
                                              email_verified=True)
    return server.services.accounts.session_for(site, reader, SignInMethod.EMAIL)


def post(http: httpx.Client, site: str, thread: str, text: str, **headers: str) -> Any:
    response = http.post("/api/comments", json={"site": site, "thread": thread, "text": text},
                         headers={"Origin": ORIGIN, **headers})
    assert response.status_code == 201, response.text
    return response.json()["comment"]


def page(http: httpx.Client, site: str, thread: str) -> dict[int, dict[str, Any]]:
    """Every comment of the thread's first page, by id."""
    response = http.get("/api/comments", params={"site": site, "thread": thread})
    assert response.status_code == 200, response.text
    out: dict[int, dict[str, Any]] = {}
    stack = list(response.json()["comments"])
    while stack:
        comment = stack.pop()
        out[comment["id"]] = comment
        stack.extend(comment["replies"])
    return out


def add_staff(server: LiveServer, tmp_path: Path, site: str, role: str = "moderator") -> str:
    name = "ed" + secrets.token_hex(4)
    password = tmp_path / "password"
    password.write_text(PASSWORD + "\n")
    added = rostra(server, "user", "add", name, "--site", site, "--role", role,
                   "--password-file", str(password))
    assert added.exit_code == 0, added.output
    return name


def test_a_staff_members_comments_carry_the_badge_while_they_have_a_role(
        server: LiveServer, site: str, http: httpx.Client, ana: Reader, tmp_path: Path) -> None:
    session = signed_in(server, site, "email:ed@gazette.example", "Ed Ito")
    before = post(http, site, "/staff/", "Written before Ed was tied", **{
        "X-Rostra-Session": session})
    assert "staff" not in before
    reply = ana.post("/staff/", "A reader's reply", parent_id=before["id"]).json()["comment"]
    name = add_staff(server, tmp_path, site)
    tied = rostra(server, "user", "reader", name, "--site", site,
                  "--subject", "email:ed@gazette.example")
    assert tied.exit_code == 0, tied.output

    # Every page of the site shows it at once (no stale cached page), on the old
    # comment and on the next one, and only on Ed's.
    wait_until(lambda: page(http, site, "/staff/")[before["id"]].get("staff") is True)
    after = post(http, site, "/staff/", "Written as staff", **{"X-Rostra-Session": session})
    assert after["staff"] is True
    shown = page(http, site, "/staff/")
    assert shown[after["id"]]["staff"] is True
    assert "staff" not in shown[reply["id"]]
    assert shown[before["id"]]["author"] == {
        "name": "Ed Ito", "website": None, "avatar": shown[before["id"]]["author"]["avatar"],
        "signed_in": True}
    listed = rostra(server, "user", "reader", name, "--site", site)
    assert listed.output.split() == ["email:ed@gazette.example"]

    # A role taken away takes the badge from every comment; a role given back returns it.
    assert rostra(server, "user", "grant", name, "--site", site, "--role", "none").exit_code == 0
    wait_until(lambda: not any("staff" in c for c in page(http, site, "/staff/").values()))
    assert "staff" not in post(http, site, "/staff/", "No longer staff",
                               **{"X-Rostra-Session": session})
    assert rostra(server, "user", "grant", name, "--site", site, "--role", "owner").exit_code == 0
    wait_until(lambda: page(http, site, "/staff/")[after["id"]].get("staff") is True)

    # Disabling the staff account, or untying the reader account, ends it too.
    staff = StaffService(server.services.db, server.services.comments.hashing.ips,
                         server.services.sealer)
    staff.set_disabled(staff.by_name(name).id, True)
    wait_until(lambda: "staff" not in page(http, site, "/staff/")[after["id"]])
    staff.set_disabled(staff.by_name(name).id, False)
    wait_until(lambda: page(http, site, "/staff/")[after["id"]].get("staff") is True)
    untied = rostra(server, "user", "reader", name, "--site", site,
                    "--subject", "email:ed@gazette.example", "--remove")
    assert untied.exit_code == 0, untied.output
    wait_until(lambda: not any("staff" in c for c in page(http, site, "/staff/").values()))


def test_a_reader_cannot_make_the_badge(server: LiveServer, site: str, http: httpx.Client,
                                        tmp_path: Path) -> None:
    name = add_staff(server, tmp_path, site)
    # Anything in the comment itself: a staff member's name, a "staff" field.
    anonymous = http.post("/api/comments", headers={"Origin": ORIGIN}, json={
        "site": site, "thread": "/forge/", "text": "I am staff", "name": name})
    assert anonymous.status_code == 201 and "staff" not in anonymous.json()["comment"]
    field = http.post("/api/comments", headers={"Origin": ORIGIN}, json={
        "site": site, "thread": "/forge/", "text": "Me too", "name": "Staff", "staff": True})
    assert field.status_code == 422
    # A payload claiming staff that the site did not sign, or with a claim that is not
    # true or false, is refused; the site's secret is on the site's server only.
    secret = server.services.accounts.make_secret(site)
    forged = http.post("/api/comments", headers={
        "Origin": ORIGIN, "X-Rostra-SSO": signed("not the secret", id="me", name="Me",
                                                 staff=True)},
        json={"site": site, "thread": "/forge/", "text": "Forged"})
    assert (forged.status_code, forged.json()["code"]) == (401, "sso_invalid")
    odd = http.post("/api/comments", headers={
        "Origin": ORIGIN, "X-Rostra-SSO": signed(secret, id="me", name="Me", staff="yes")},
        json={"site": site, "thread": "/forge/", "text": "Odd"})
    assert (odd.status_code, odd.json()["code"]) == (401, "sso_invalid")
    # A reader account tied to a staff member whose role is on another site only.
    other = server.add_site("o" + secrets.token_hex(5), [])
    elsewhere = add_staff(server, tmp_path, other)
    session = signed_in(server, site, "email:mo@gazette.example", "Mo")
    assert rostra(server, "user", "reader", elsewhere, "--site", site, "--subject",
                  "email:mo@gazette.example").exit_code == 0
    assert "staff" not in post(http, site, "/forge/", "Not this site's staff",
                               **{"X-Rostra-Session": session})
    # Tying needs an account that signed in: a subject nobody proved is refused.
    unknown = rostra(server, "user", "reader", name, "--site", site, "--subject",
                     "email:nobody@gazette.example")
    assert unknown.exit_code != 0 and "signs in to comment once first" in unknown.output
    assert not any("staff" in c for c in page(http, site, "/forge/").values())


def test_the_sites_single_sign_on_says_who_is_staff(server: LiveServer, site: str,
                                                    http: httpx.Client) -> None:
    secret = server.services.accounts.make_secret(site)
    editor = signed(secret, id="u-9", name="The Editor", staff=True)
    first = post(http, site, "/sso-staff/", "From the newsroom", **{"X-Rostra-SSO": editor})
    assert first["staff"] is True
    member = post(http, site, "/sso-staff/", "A member", **{
        "X-Rostra-SSO": signed(secret, id="u-10", name="A Member")})
    assert "staff" not in member
    assert page(http, site, "/sso-staff/")[first["id"]]["staff"] is True
    # The site's next payload for the person without the claim: no longer staff.
    later = post(http, site, "/sso-staff/", "After leaving the newsroom", **{
        "X-Rostra-SSO": signed(secret, id="u-9", name="The Editor", staff=False)})
    assert "staff" not in later
    wait_until(lambda: not any("staff" in c for c in page(http, site, "/sso-staff/").values()))
