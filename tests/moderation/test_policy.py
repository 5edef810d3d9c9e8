"""The site policy: defaults, parsing, and errors that name the key."""

from __future__ import annotations

import pytest

from rostra.core.errors import InvalidInput
from rostra.moderation.policy import (
    DEFAULT_GROUNDS,
    DsaPolicy,
    Ground,
    ListAction,
    Mode,
    Policy,
    PowMode,
    PowPolicy,
    TrustPolicy,
    parse_policy,
    validate_section,
)


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


# -- every setting's bounds and its message, exactly ---------------------------------

_BAD_POLICIES: list[tuple[dict[str, object], str]] = [
    ({"bogus": 1, "also": 2}, "moderation: unknown key(s) also, bogus (known: "),
    ({"mode": "sometimes"}, "moderation.mode: must be one of post, first_time, all"),
    ({"held_message": " "}, "moderation.held_message: a text of 1 to 500 characters"),
    ({"held_message": "x" * 501}, "moderation.held_message: a text of 1 to 500 characters"),
    ({"refused_message": 5}, "moderation.refused_message: a text of 1 to 500 characters"),
    ({"thresholds": []}, "moderation.thresholds: must be an object"),
    ({"thresholds": {"nope": 1}}, "moderation.thresholds: unknown key(s) nope (known: "),
    ({"thresholds": {"spam_line": 1.01}}, "moderation.thresholds.spam_line: must be a number "
                                          "from 0 to 1"),
    ({"thresholds": {"spam_line": -0.01}}, "moderation.thresholds.spam_line: must be a number "
                                           "from 0 to 1"),
    ({"thresholds": {"spam_line": True}}, "moderation.thresholds.spam_line: must be a number "
                                          "from 0 to 1"),
    ({"thresholds": {"spam_line": "0.5"}}, "moderation.thresholds.spam_line: must be a number "
                                           "from 0 to 1"),
    ({"thresholds": {"max_links": 1001}}, "moderation.thresholds.max_links: must be a whole "
                                          "number from 0 to 1000"),
    ({"thresholds": {"max_links": -1}}, "moderation.thresholds.max_links: must be a whole "
                                        "number from 0 to 1000"),
    ({"thresholds": {"max_links": True}}, "moderation.thresholds.max_links: must be a whole "
                                          "number from 0 to 1000"),
    ({"thresholds": {"max_links": 2.0}}, "moderation.thresholds.max_links: must be a whole "
                                         "number from 0 to 1000"),
    ({"thresholds": {"toxicity_nudge": 0.9, "toxicity_hold": 0.8}},
     "moderation.thresholds: toxicity_nudge <= toxicity_hold <= toxicity_refuse"),
    ({"thresholds": {"toxicity_hold": 0.97}},
     "moderation.thresholds: toxicity_nudge <= toxicity_hold <= toxicity_refuse"),
    ({"rate_limits": "10/minute"}, "moderation.rate_limits: must be an object"),
    ({"rate_limits": {"posts": "1/minute"}}, "moderation.rate_limits: unknown key(s) posts "
                                             "(known: "),
    ({"rate_limits": {"vote": 10}}, 'moderation.rate_limits.vote: a string such as '
                                    '"10/minute;100/hour", or ""'),
    ({"rate_limits": {"vote": "often"}}, "moderation.rate_limits.vote: 'often' is not a rate "
                                         'such as "10/minute;100/hour"'),
    ({"rate_limits": {"vote": "x" * 150}}, "moderation.rate_limits.vote: '" + "x" * 100
                                           + "' is not a rate"),
    ({"pow": "sometimes"}, "moderation.pow: must be one of off, under_attack, always"),
    ({"pow": 3}, "moderation.pow: must be an object"),
    ({"pow": {"level": 1}}, "moderation.pow: unknown key(s) level (known: "
                            "attack_ip_per_minute, attack_thread_per_minute, difficulty, "
                            "max_difficulty, mode)"),
    ({"pow": {"mode": "never"}}, "moderation.pow.mode: must be one of off, under_attack, always"),
    ({"pow": {"difficulty": 9}}, "moderation.pow.difficulty: must be a whole number from 10 to "
                                 "10000000"),
    ({"pow": {"difficulty": 10_000_001}}, "moderation.pow.difficulty: must be a whole number "
                                          "from 10 to 10000000"),
    ({"pow": {"attack_ip_per_minute": 0}}, "moderation.pow.attack_ip_per_minute: must be a "
                                           "whole number from 1 to 100000"),
    ({"pow": {"attack_thread_per_minute": 100_001}}, "moderation.pow.attack_thread_per_minute: "
                                                     "must be a whole number from 1 to 100000"),
    ({"pow": {"max_difficulty": 100_000_001}}, "moderation.pow.max_difficulty: must be a whole "
                                               "number from 10 to 100000000"),
    ({"blocked_domains": ["not a domain"]}, "moderation.blocked_domains: 'not a domain' is not "
                                            "a domain"),
    ({"blocked_domains": "spam.example"}, "moderation.blocked_domains: must be a list of "
                                          "non-empty texts (200 characters at most)"),
    ({"blocklist": [" "]}, "moderation.blocklist: must be a list of non-empty texts"),
    ({"blocklist": ["x" * 201]}, "moderation.blocklist: must be a list of non-empty texts"),
    ({"blocklist": [3]}, "moderation.blocklist: must be a list of non-empty texts"),
    ({"suspect_words": ["x"] * 10_001}, "moderation.suspect_words: at most 10000 entries"),
    ({"blocklist_action": "delete"}, "moderation.blocklist_action: must be one of refuse, spam, "
                                     "hold"),
    ({"languages": ["english"]}, 'moderation.languages: ISO 639-1 codes such as "en", "sk"'),
    ({"toxicity": "yes"}, "moderation.toxicity: must be true or false"),
]


@pytest.mark.parametrize(("section", "message"), _BAD_POLICIES)
def test_it_refuses_each_bad_setting_with_its_own_message(section: dict[str, object],
                                                          message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_section(section)
    assert str(refused.value).startswith(message), str(refused.value)
    if "(known: " in message:  # the known keys listed in order, comma-separated
        known = str(refused.value).split("(known: ")[1].rstrip(")").split(", ")
        assert known == sorted(known) and all(k.isidentifier() for k in known), known


def test_it_takes_every_setting_at_its_bounds() -> None:
    policy = parse_policy({
        "mode": "all", "held_message": " Wait. ", "refused_message": "x" * 500,
        "thresholds": {"toxicity_nudge": 0.0, "toxicity_hold": 0.0, "toxicity_refuse": 1,
                       "spam_line": 1.0, "max_links": 1000, "caps_min_letters": 1,
                       "duplicate_window_seconds": 60},
        "rate_limits": {"vote": " 5/minute ", "flag": ""},
        "pow": {"mode": "always", "difficulty": 10, "attack_ip_per_minute": 100_000,
                "max_difficulty": 100_000_000},
        "blocked_domains": ["Spam.Example"], "blocklist": [" a ", "x" * 200],
        "suspect_words": ["w"] * 10_000, "blocklist_action": "spam",
        "languages": ["en", "sk"], "toxicity": False,
    })
    assert policy.mode == "all" and policy.held_message == "Wait."
    assert policy.refused_message == "x" * 500
    t = policy.thresholds
    assert (t.toxicity_nudge, t.toxicity_hold, t.toxicity_refuse) == (0.0, 0.0, 1.0)
    assert isinstance(t.toxicity_refuse, float) and t.spam_line == 1.0
    assert (t.max_links, t.caps_min_letters, t.duplicate_window_seconds) == (1000, 1, 60)
    assert (policy.rate_limits.vote, policy.rate_limits.flag) == ("5/minute", "")
    assert policy.rate_limits.post_thread == "120/minute"  # the rest keep their defaults
    assert policy.pow == PowPolicy(mode=PowMode.ALWAYS, difficulty=10,
                                   attack_ip_per_minute=100_000, max_difficulty=100_000_000)
    assert parse_policy({"pow": "under_attack"}).pow == PowPolicy(mode=PowMode.UNDER_ATTACK)
    assert policy.blocked_domains == ("spam.example",)
    assert policy.blocklist == ("a", "x" * 200) and len(policy.suspect_words) == 10_000
    assert policy.blocklist_action == "spam" and policy.languages == ("en", "sk")
    assert policy.toxicity is False
    assert parse_policy(None) == Policy() == parse_policy({})


# -- the DSA and trust sections: every key's bounds and message, exactly --------------

GROUNDS_FORM = ('moderation.dsa.grounds: each ground is {"code": lower-case letters, digits '
                'and _, "label": 1 to 200 characters}')
GROUNDS_LIST = 'moderation.dsa.grounds: a list of 1 to 100 {"code": ..., "label": ...} objects'


def ground(code: str = "threat", label: str = "Threat") -> dict[str, object]:
    return {"code": code, "label": label}


@pytest.mark.parametrize(("section", "message"), [
    ({"dsa": []}, "moderation.dsa: must be an object"),
    ({"dsa": {"deadline": 1}}, "moderation.dsa: unknown key(s) deadline (known: grounds, "
                               "notice_hours, redress)"),
    ({"dsa": {"grounds": ground()}}, GROUNDS_LIST),
    ({"dsa": {"grounds": []}}, GROUNDS_LIST),
    ({"dsa": {"grounds": [ground(f"g{i}") for i in range(101)]}}, GROUNDS_LIST),
    ({"dsa": {"grounds": ["threat"]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [{"code": "threat"}]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [{**ground(), "law": "§241"}]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [ground(code=7)]}}, GROUNDS_FORM),  # type: ignore[arg-type]
    ({"dsa": {"grounds": [ground(code="")]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [ground(code="Threat")]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [ground(code="a-threat")]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [ground(code="threat\n")]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [ground(code="x" * 65)]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [ground(label=7)]}}, GROUNDS_FORM),  # type: ignore[arg-type]
    ({"dsa": {"grounds": [ground(label="  ")]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [ground(label="x" * 201)]}}, GROUNDS_FORM),
    ({"dsa": {"grounds": [ground(), ground("other"), ground(label="Again")]}},
     "moderation.dsa.grounds: each code once"),
    ({"dsa": {"notice_hours": 0}}, "moderation.dsa.notice_hours: must be a whole number from 1 "
                                   "to 2160"),
    ({"dsa": {"notice_hours": 2161}}, "moderation.dsa.notice_hours: must be a whole number "
                                      "from 1 to 2160"),
    ({"dsa": {"notice_hours": True}}, "moderation.dsa.notice_hours: must be a whole number "
                                      "from 1 to 2160"),
    ({"dsa": {"redress": " "}}, "moderation.dsa.redress: a text of 1 to 1000 characters"),
    ({"dsa": {"redress": "x" * 1001}}, "moderation.dsa.redress: a text of 1 to 1000 characters"),
    ({"trust": "strict"}, "moderation.trust: must be an object"),
    ({"trust": {"first_comments": 2}}, "moderation.trust: unknown key(s) first_comments (known: "
                                       "account_min_days, first_comments_held, "
                                       "links_need_approved, regular_badge, trusted_after)"),
    ({"trust": {"first_comments_held": -1}}, "moderation.trust.first_comments_held: must be a "
                                             "whole number from 0 to 1000"),
    ({"trust": {"first_comments_held": 1001}}, "moderation.trust.first_comments_held: must be a "
                                               "whole number from 0 to 1000"),
    ({"trust": {"links_need_approved": -1}}, "moderation.trust.links_need_approved: must be a "
                                             "whole number from 0 to 1000"),
    ({"trust": {"links_need_approved": 1001}}, "moderation.trust.links_need_approved: must be a "
                                               "whole number from 0 to 1000"),
    ({"trust": {"account_min_days": -1}}, "moderation.trust.account_min_days: must be a whole "
                                          "number from 0 to 3650"),
    ({"trust": {"account_min_days": 3651}}, "moderation.trust.account_min_days: must be a whole "
                                            "number from 0 to 3650"),
    ({"trust": {"trusted_after": 0}}, "moderation.trust.trusted_after: must be a whole number "
                                      "from 1 to 100000"),
    ({"trust": {"trusted_after": 100_001}}, "moderation.trust.trusted_after: must be a whole "
                                            "number from 1 to 100000"),
    ({"trust": {"trusted_after": 2.0}}, "moderation.trust.trusted_after: must be a whole number "
                                        "from 1 to 100000"),
    ({"trust": {"regular_badge": "yes"}}, "moderation.trust.regular_badge: must be true or false"),
    ({"trust": {"regular_badge": 1}}, "moderation.trust.regular_badge: must be true or false"),
    # and two of the older sections' messages, exactly: a long non-domain cut at 100
    ({"blocked_domains": ["a b" + "x" * 150]}, "moderation.blocked_domains: "
                                               f"{'a b' + 'x' * 97!r} is not a domain"),
    ({"languages": "en"}, "moderation.languages: must be a list of non-empty texts (200 "
                          "characters at most)"),
    ({"languages": ["en", "english"]}, 'moderation.languages: ISO 639-1 codes such as "en", '
                                       '"sk"'),
])
def test_it_refuses_each_bad_dsa_or_trust_setting_with_its_own_message(
    section: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_policy(section)
    assert str(refused.value) == message


def test_it_takes_equal_toxicity_lines() -> None:
    equal = {"toxicity_nudge": 0.9, "toxicity_hold": 0.9, "toxicity_refuse": 0.9}
    t = parse_policy({"thresholds": equal}).thresholds
    assert (t.toxicity_nudge, t.toxicity_hold, t.toxicity_refuse) == (0.9, 0.9, 0.9)


def test_it_takes_the_dsa_section_at_its_bounds() -> None:
    assert parse_policy({"dsa": {"grounds": [ground()]}}).dsa.grounds == (
        Ground("threat", "Threat"),)
    many = [ground(f"g{i}", f"Ground {i}") for i in range(100)]
    assert parse_policy({"dsa": {"grounds": many}}).dsa.grounds == tuple(
        Ground(f"g{i}", f"Ground {i}") for i in range(100))
    dsa = parse_policy({"dsa": {
        "grounds": [ground("x" * 64, " " + "y" * 200 + " "), ground("a", "A")],
        "notice_hours": 2160, "redress": " " + "r" * 998 + " ",
    }}).dsa
    # The labels and the redress are kept stripped, the grounds in their order, as a tuple.
    assert dsa == DsaPolicy(grounds=(Ground("x" * 64, "y" * 200), Ground("a", "A")),
                            notice_hours=2160, redress="r" * 998)
    assert parse_policy({"dsa": {"notice_hours": 1, "redress": "r" * 1000}}).dsa == DsaPolicy(
        notice_hours=1, redress="r" * 1000)
    # Each key left out keeps its default: the Transparency Database's categories, 24 hours.
    assert parse_policy({"dsa": {}}).dsa == DsaPolicy() == Policy().dsa
    assert DsaPolicy().grounds == DEFAULT_GROUNDS and DsaPolicy().notice_hours == 24
    assert parse_policy({"dsa": {"redress": "An arbitration board."}}).dsa == DsaPolicy(
        redress="An arbitration board.")


def test_it_takes_the_trust_section_at_its_bounds() -> None:
    high = {"first_comments_held": 1000, "links_need_approved": 1000,
            "account_min_days": 3650, "trusted_after": 100_000}
    assert parse_policy({"trust": {**high, "regular_badge": True}}).trust == TrustPolicy(
        **high, regular_badge=True)
    low = {"first_comments_held": 0, "links_need_approved": 0, "account_min_days": 0,
           "trusted_after": 1}
    assert parse_policy({"trust": {**low, "regular_badge": False}}).trust == TrustPolicy(**low)
    assert parse_policy({"trust": {"trusted_after": 7}}).trust == TrustPolicy(trusted_after=7)
    assert parse_policy({"trust": {"regular_badge": True}}).trust == TrustPolicy(
        regular_badge=True)
    assert parse_policy({"trust": {}}).trust == TrustPolicy() == Policy().trust
