"""The sign-in and account forms refuse what is stale, mistyped or not theirs, and say
why; the admin token, which has no account, gets no account page."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import httpx
import pyotp
import pytest

from tests.admin.conftest import PASSWORD, Newsroom, StaffMember, parse, staff_service
from tests.conftest import LiveServer, running_server

TOKEN = "admin-token-" + secrets.token_hex(8)
JSON = {"Accept": "application/json"}


def _signed_in(server: LiveServer, http: httpx.Client) -> StaffMember:
    name = "f" + secrets.token_hex(5)
    staff_service(server).create_user(name, PASSWORD)
    member = StaffMember(name, http)
    assert member.login().status_code == 303
    return member


def _alert(response: httpx.Response) -> str:
    return str(parse(response).xpath('string(//p[@role="alert"])'))


def test_it_refuses_a_sign_in_form_that_expired_or_was_never_served(server: LiveServer) -> None:
    name = "f" + secrets.token_hex(5)
    staff_service(server).create_user(name, PASSWORD)
    with server.client() as http:
        token = parse(http.get("/admin/login")).xpath('//input[@name="csrf"]/@value')[0]
        with server.client() as stranger:  # the form's token, without the form's cookie
            forged = stranger.post("/admin/login", data={
                "csrf": token, "name": name, "password": PASSWORD})
            assert forged.status_code == 403
            assert _alert(forged) == "The sign-in form had expired. Please try again."
            assert stranger.get("/admin/queue").status_code == 303
        wrong = http.post("/admin/login", data={"csrf": token + "x", "name": name,
                                                "password": PASSWORD})
        assert wrong.status_code == 403
        assert _alert(wrong) == "The sign-in form had expired. Please try again."
        assert http.get("/admin/queue").status_code == 303


def test_it_refuses_passkey_sign_in_without_the_forms_token_or_a_json_object(
    server: LiveServer
) -> None:
    with server.client() as http:
        csrf = parse(http.get("/admin/login")).xpath(
            '//button[@id="passkey-sign-in"]/@data-csrf')[0]
        for path in ("/admin/login/passkey/options", "/admin/login/passkey"):
            refused = http.post(path, json={"csrf": csrf[:-2]}, headers=JSON)
            assert refused.status_code == 403
            assert refused.json()["code"] == "csrf_failed"
            for body in (b"{not json", b"[1, 2]"):
                bad = http.post(path, content=body,
                                headers={**JSON, "Content-Type": "application/json"})
                assert bad.status_code == 422
                assert bad.json()["detail"] == "a JSON object is expected"
        assert http.get("/admin/queue").status_code == 303


def test_it_says_what_is_wrong_with_an_account_form_and_changes_nothing(
    server: LiveServer
) -> None:
    with server.client() as http:
        member = _signed_in(server, http)
        differ = member.post("/admin/account", {"op": "password", "password": PASSWORD,
                                                "new_password": "a brand new password",
                                                "repeat": "a brand new passwort"})
        assert differ.status_code == 422
        assert _alert(differ) == "the two new passwords differ"
        assert member.get("/admin/queue").status_code == 200  # still signed in
        for form, message in [
            ({"op": "end_session", "session": "0123456789abcdef"},
             "no such session on this account"),
            ({"op": "end_session", "session": "not-a-handle"}, "no such session on this account"),
            ({"op": "remove_passkey", "passkey": "first"}, "passkey: an id"),
            ({"op": "delete_account"}, ("op: password, totp_on, totp_confirm, totp_off, "
                                        "end_session, end_others or remove_passkey")),
        ]:
            response = member.post("/admin/account", form)
            assert response.status_code == 422
            assert _alert(response) == message
        assert member.get("/admin/queue").status_code == 200
    with server.client() as again:
        assert StaffMember(member.name, again).login().status_code == 303  # same password


def test_it_turns_the_second_factor_off(server: LiveServer) -> None:
    with server.client() as http:
        member = _signed_in(server, http)
        secret = parse(member.post("/admin/account", {"op": "totp_on", "password": PASSWORD})
                       ).xpath('string(//code[@class="secret"])')
        totp = pyotp.TOTP(secret)
        assert member.post("/admin/account", {"op": "totp_confirm",
                                              "code": totp.now()}).status_code == 303
        with server.client() as other:
            assert StaffMember(member.name, other).login().status_code == 401
        # Each code is taken once: the steps after the one that confirmed the key.
        off = member.post("/admin/account", {"op": "totp_off", "password": PASSWORD,
                                             "code": totp.at(time.time() + 30)})
        assert (off.status_code, off.headers["location"]) == (303,
                                                              "/admin/account?done=totp_off")
        assert parse(member.get("/admin/account")).xpath('//code[@class="secret"]') == []
    with server.client() as other:
        assert StaffMember(member.name, other).login().status_code == 303  # no code asked


@pytest.fixture(scope="module")
def token_server() -> Iterator[LiveServer]:
    with running_server("sqlite", admin_token=TOKEN) as live:
        yield live


def test_the_admin_token_has_no_account_to_change(token_server: LiveServer) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with token_server.client(headers=bearer) as http:
        assert http.get("/admin/queue").status_code == 200  # it is an administrator
        page = http.get("/admin/account")
        assert page.status_code == 422
        assert "the admin token has no account; sign in with a staff account" in page.text
        changed = http.post("/admin/account", data={"op": "totp_on"})
        assert changed.status_code == 422
        assert "the admin token has no account" in changed.text
        for path in ("/admin/account/passkeys/options", "/admin/account/passkeys"):
            refused = http.post(path, json={}, headers=JSON)
            assert refused.status_code == 422
            assert refused.json()["detail"] == "the admin token has no account"
        # Signing out ends no session (there is none) and sends it to the sign-in page.
        out = http.post("/admin/logout")
        assert (out.status_code, out.headers["location"]) == (303, "/admin/login")
        assert http.get("/admin/queue").status_code == 200


def test_after_signing_in_it_follows_only_paths_of_the_workspace(server: LiveServer) -> None:
    name = "f" + secrets.token_hex(5)
    staff_service(server).create_user(name, PASSWORD)
    for target, landing in [("https://evil.example/admin", "/admin/queue"),
                            ("//evil.example/admin", "/admin/queue"),
                            ("/\\evil.example", "/admin/queue"),
                            ("/elsewhere", "/admin/queue"),
                            ("/admin/audit", "/admin/audit")]:
        with server.client() as http:
            token = parse(http.get("/admin/login")).xpath('//input[@name="csrf"]/@value')[0]
            signed = http.post("/admin/login", data={"csrf": token, "name": name,
                                                     "password": PASSWORD, "next": target})
            assert signed.status_code == 303
            assert signed.headers["location"] == landing, target


def test_an_owner_grants_only_the_roles_there_are(newsroom: Newsroom) -> None:
    room = newsroom
    path = f"/admin/sites/{room.site_a}/staff"
    refused = room.owner.post(path, {"name": room.outsider.name, "role": "emperor"})
    assert refused.status_code == 422
    assert "role: must be one of" in " ".join(parse(refused).xpath("string(//main)").split())
    nobody = room.owner.post(path, {"name": "nobody-" + secrets.token_hex(3),
                                    "role": "moderator"})
    assert nobody.status_code == 404
    assert staff_service(room.server).by_name(room.outsider.name).roles == {room.site_b:
                                                                           "moderator"}
