"""The content checks, one by one: length, links, words, capitals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rostra.moderation.checks import Inspection
from rostra.moderation.checks.caps import CapsCheck
from rostra.moderation.checks.length import LengthCheck
from rostra.moderation.checks.links import LinkCheck, hosts_of
from rostra.moderation.checks.words import WordCheck
from rostra.moderation.decision import Action, Draft
from rostra.moderation.policy import parse_policy


def draft(text: str, **kwargs: Any) -> Draft:
    values: dict[str, Any] = {
        "site_id": "s", "thread_id": None, "thread_key": "/a", "parent_id": None, "text": text,
        "author_name": "Ana", "author_email": None, "author_website": None, "ip_hash": "h1",
        "voter_id": "v1", "account_id": None, "created_at": datetime.now(UTC),
    }
    values.update(kwargs)
    return Draft(**values)


def run(check: Any, text: str, policy: dict[str, Any] | None = None,
        **kwargs: Any) -> list[tuple[Action, str]]:
    item = Inspection(draft(text, **kwargs), parse_policy(policy or {}))
    return [(f.action, f.reason.code) for f in check.run(item)]


def test_it_refuses_too_short_and_holds_very_long_texts() -> None:
    policy = {"thresholds": {"min_length": 5, "hold_length": 50}}
    assert run(LengthCheck(), "hey", policy) == [(Action.REFUSE, "too_short")]
    assert run(LengthCheck(), "x" * 51, policy) == [(Action.HOLD, "very_long")]
    assert run(LengthCheck(), "A fair point.", policy) == []


def test_it_finds_links_in_every_spelling() -> None:
    text = "see https://a.example/x, www.b.example and c.example/path or [d](http://d.example)"
    assert hosts_of(text) == ["a.example", "www.b.example", "c.example", "d.example"]


def test_it_holds_comments_with_too_many_links() -> None:
    policy = {"thresholds": {"max_links": 2}}
    text = "http://a.example http://b.example http://c.example"
    assert run(LinkCheck(), text, policy) == [(Action.HOLD, "too_many_links")]
    assert run(LinkCheck(), "http://a.example", policy) == []


def test_it_marks_links_to_blocked_domains_as_spam() -> None:
    policy = {"blocked_domains": ["pills.example"]}
    assert run(LinkCheck(), "buy at https://shop.pills.example/now", policy) == [
        (Action.SPAM, "blocked_domain")]
    assert run(LinkCheck(), "nice", policy, author_website="https://pills.example") == [
        (Action.SPAM, "blocked_domain")]
    assert run(LinkCheck(), "see https://notpills.example", policy) == []


def test_it_applies_the_blocklist_action_and_holds_suspect_words() -> None:
    assert run(WordCheck(), "You 1d10t", {"blocklist": ["idiot"]}) == [
        (Action.REFUSE, "blocklist")]
    assert run(WordCheck(), "You 1d10t", {"blocklist": ["idiot"], "blocklist_action": "spam"}) == [
        (Action.SPAM, "blocklist")]
    assert run(WordCheck(), "what a m0r0n", {"suspect_words": ["moron"]}) == [
        (Action.HOLD, "suspect_words")]
    assert run(WordCheck(), "a perfectly idiomatic phrase", {"blocklist": ["idiot"]}) == []


def test_it_checks_the_author_name_against_the_blocklist() -> None:
    assert run(WordCheck(), "hello", {"blocklist": ["idiot"]}, author_name="Big Idiot") == [
        (Action.REFUSE, "blocklist")]


def test_it_holds_shouting_but_not_acronyms() -> None:
    assert run(CapsCheck(), "THIS GOVERNMENT IS LYING TO ALL OF US AGAIN") == [
        (Action.HOLD, "all_caps")]
    assert run(CapsCheck(), "The EU and NATO met the UN in NYC.") == []
    assert run(CapsCheck(), "OK FINE") == []  # too few letters to call it shouting
