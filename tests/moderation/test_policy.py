"""The site policy: defaults, parsing, and errors that name the key."""

from __future__ import annotations

import pytest

from rostra.core.errors import InvalidInput
from rostra.moderation.policy import ListAction, Mode, PowMode, parse_policy


def test_it_has_safe_defaults() -> None:
    policy = parse_policy({})
    assert policy.mode is Mode.POST
    assert policy.pow.mode is PowMode.OFF
    assert policy.thresholds.toxicity_nudge < policy.thresholds.toxicity_hold
    assert policy.rate_limits.post_author


def test_it_parses_a_full_section() -> None:
    policy = parse_policy({
        "mode": "first_time", "held_message": "Wait a bit.",
        "thresholds": {"toxicity_hold": 0.8, "max_links": 1, "flags_to_hold": 2},
        "rate_limits": {"post_author": "2/minute", "vote": ""},
        "pow": {"mode": "always", "difficulty": 1000},
        "blocked_domains": ["Spam.Example"], "blocklist": ["idiot"],
        "blocklist_action": "hold", "suspect_words": ["moron"], "languages": ["en", "sk"],
        "toxicity": False,
    })
    assert policy.mode is Mode.FIRST_TIME
    assert policy.thresholds.toxicity_hold == 0.8 and policy.thresholds.max_links == 1
    assert policy.rate_limits.post_author == "2/minute" and policy.rate_limits.vote == ""
    assert policy.pow.mode is PowMode.ALWAYS and policy.pow.difficulty == 1000
    assert policy.blocked_domains == ("spam.example",)
    assert policy.blocklist_action is ListAction.HOLD
    assert policy.languages == ("en", "sk") and policy.toxicity is False


def test_it_accepts_pow_as_a_plain_mode() -> None:
    assert parse_policy({"pow": "under_attack"}).pow.mode is PowMode.UNDER_ATTACK


@pytest.mark.parametrize(("section", "names"), [
    ({"colour": "red"}, "moderation: unknown key(s) colour"),
    ({"mode": "sometimes"}, "moderation.mode: must be one of"),
    ({"thresholds": {"toxicity_hold": 2}}, "moderation.thresholds.toxicity_hold"),
    ({"thresholds": {"max_links": -1}}, "moderation.thresholds.max_links"),
    ({"thresholds": {"speed": 1}}, "moderation.thresholds: unknown key(s) speed"),
    ({"rate_limits": {"post_author": "lots"}}, "moderation.rate_limits.post_author"),
    ({"pow": {"difficulty": 1}}, "moderation.pow.difficulty"),
    ({"blocked_domains": ["not a domain"]}, "moderation.blocked_domains"),
    ({"blocklist": "idiot"}, "moderation.blocklist"),
    ({"languages": ["english"]}, "moderation.languages"),
    ({"thresholds": {"toxicity_nudge": 0.9, "toxicity_hold": 0.5}}, "toxicity_nudge <="),
])
def test_it_refuses_bad_settings_naming_the_key(section: dict[str, object], names: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_policy(section)
    assert names in caught.value.detail
