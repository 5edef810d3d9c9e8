"""Signed tokens: each kind verifies only as itself, only under the server's secret, and
only while it is young enough."""

from __future__ import annotations

import time
from collections.abc import Callable
from unittest import mock

import pytest
from itsdangerous import TimestampSigner

from rostra.services.tokens import Tokens


@pytest.fixture(autouse=True)
def servers() -> None:
    """Two servers' tokens, made in each test (so that a change to Tokens() shows)."""
    global TOKENS, OTHER
    TOKENS, OTHER = Tokens("one secret"), Tokens("another secret")


TOKENS: Tokens
OTHER: Tokens


def an_hour_ago(make: Callable[[], str]) -> str:
    """A token made by ``make`` as if an hour ago."""
    with mock.patch.object(TimestampSigner, "get_timestamp",
                           lambda _self: int(time.time()) - 3600):
        return make()


def test_it_checks_edit_tokens_for_their_comment_and_age() -> None:
    old = an_hour_ago(lambda: TOKENS.edit_token(5))
    fresh = TOKENS.edit_token(5)
    assert TOKENS.check_edit_token(fresh, 5, 600) == "ok"
    assert TOKENS.check_edit_token(fresh, 6, 600) == "invalid"
    assert TOKENS.check_edit_token(old, 5, 600) == "expired"
    assert TOKENS.check_edit_token(old, 5, 7200) == "ok"
    assert TOKENS.check_edit_token(old, 6, 600) == "invalid"  # old and for another comment
    for bad in (None, "", fresh + "x", OTHER.edit_token(5), TOKENS.statement_token(5),
                "5", "5.abc.def"):
        assert TOKENS.check_edit_token(bad, 5, 600) == "invalid", bad
    # Authorship outlives the window (no vote on one's own comment, ever).
    assert TOKENS.proves_author(old, 5) and TOKENS.proves_author(fresh, 5)
    for bad in (None, "", old + "x", OTHER.edit_token(5), TOKENS.edit_token(6)):
        assert not TOKENS.proves_author(bad, 5), bad


def test_it_gives_voters_ids_only_their_own_tokens_carry() -> None:
    voter, token = TOKENS.new_voter()
    another, _ = TOKENS.new_voter()
    assert len(voter) == 16 and voter != another
    assert TOKENS.voter_id(token) == voter
    for bad in (None, "", token + "x", OTHER.new_voter()[1], TOKENS.edit_token(1),
                "x" * 201):
        assert TOKENS.voter_id(bad) is None, bad


def test_it_keys_statements_of_reasons_by_their_id() -> None:
    token = TOKENS.statement_token(42)
    assert TOKENS.statement_of(token) == 42
    signer = TimestampSigner("one secret", salt="rostra.dsa-statement")
    assert TOKENS.statement_of(signer.sign("x42").decode()) is None
    for bad in (None, "", token + "x", "x" * 201, OTHER.statement_token(42),
                TOKENS.edit_token(42)):
        assert TOKENS.statement_of(bad) is None, bad


def test_it_keeps_sign_in_state_signed_and_young() -> None:
    state = {"site": "news", "nonce": "n"}
    token = an_hour_ago(lambda: TOKENS.sign_in_state(state))
    assert TOKENS.sign_in_state_of(token, 7200) == state
    assert TOKENS.sign_in_state_of(token, 600) is None
    for bad in (None, "", token + "x", "x" * 2001, OTHER.sign_in_state(state)):
        assert TOKENS.sign_in_state_of(bad, 7200) is None, bad
    not_a_dict = TOKENS.sign_in_state(["news"])  # type: ignore[arg-type]
    assert TOKENS.sign_in_state_of(not_a_dict, 60) is None


def test_it_accepts_tokens_signed_as_released_versions_signed_them() -> None:
    # A salt changed in a release would log every reader out of their edit window and
    # voter id at the upgrade: tokens made with the released salts must keep working.
    def signed(salt: str, value: str) -> str:
        return TimestampSigner("one secret", salt=salt).sign(value).decode()

    assert TOKENS.check_edit_token(signed("rostra.edit", "5"), 5, 600) == "ok"
    assert TOKENS.proves_author(signed("rostra.edit", "5"), 5)
    assert TOKENS.voter_id(signed("rostra.voter", "v123")) == "v123"
    assert TOKENS.statement_of(signed("rostra.dsa-statement", "9")) == 9
    from itsdangerous import URLSafeTimedSerializer

    state = URLSafeTimedSerializer("one secret", salt="rostra.sign-in").dumps({"a": "b"})
    assert TOKENS.sign_in_state_of(state, 60) == {"a": "b"}


def test_it_makes_the_tokens_released_versions_made() -> None:
    # Keys are derived once and kept (they were derived on every post): the same bytes
    # must come out as itsdangerous's own TimestampSigner makes at the same second.
    at = int(time.time()) - 7
    with mock.patch.object(TimestampSigner, "get_timestamp", lambda _self: at):
        for secret in ("one secret", "ünïcode sécret", "s" * 200):
            tokens = Tokens(secret)
            for value in ("5", "0", "123456789", "v" * 16):
                for salt, make in (("rostra.edit", tokens.edit_token),
                                   ("rostra.dsa-statement", tokens.statement_token)):
                    if value.isdigit():
                        signed = TimestampSigner(secret, salt=salt).sign(value).decode()
                        assert make(int(value)) == make(int(value)) == signed
            with mock.patch("secrets.token_urlsafe", lambda _n: "v" * 16):
                voter, token = tokens.new_voter()
            assert token == TimestampSigner(secret, salt="rostra.voter").sign(voter).decode()
