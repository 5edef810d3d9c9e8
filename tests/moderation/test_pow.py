"""Proof of work: challenges that verify once, expire, stay on their site, and grow
harder under attack."""

from __future__ import annotations

import base64
import time
from typing import Any

import orjson

from rostra.moderation.checks import Inspection
from rostra.moderation.checks.pow import AttackMeter, PowCheck
from rostra.moderation.decision import Action
from rostra.moderation.policy import parse_policy
from rostra.moderation.pow import PowError, ProofOfWork, Solved, solve
from rostra.moderation.ratelimit import RateLimiter
from tests.moderation.test_content_checks import draft


def test_it_verifies_a_solved_challenge() -> None:
    pow = ProofOfWork("key")
    challenge = pow.issue("news", 2000)
    result = pow.verify(solve(challenge), "news", 2000)
    assert isinstance(result, Solved) and result.difficulty == 2000


def test_it_refuses_a_wrong_number_or_a_forged_signature() -> None:
    pow = ProofOfWork("key")
    data = orjson.loads(base64.b64decode(solve(pow.issue("news", 100))))
    wrong = base64.b64encode(orjson.dumps({**data, "number": data["number"] + 1})).decode()
    assert pow.verify(wrong, "news", 10) is PowError.WRONG
    other = ProofOfWork("another key")
    assert other.verify(solve(pow.issue("news", 100)), "news", 10) is PowError.WRONG
    assert pow.verify("not base64!", "news", 10) is PowError.MALFORMED
    assert pow.verify(None, "news", 10) is PowError.MISSING


def test_it_refuses_an_expired_challenge_or_one_for_another_site() -> None:
    pow = ProofOfWork("key", lifetime=60)
    answer = solve(pow.issue("news", 100))
    assert pow.verify(answer, "news", 10, now=time.time() + 120) is PowError.EXPIRED
    assert pow.verify(answer, "blog", 10) is PowError.OTHER_SITE


def test_it_refuses_a_challenge_easier_than_required() -> None:
    pow = ProofOfWork("key")
    assert pow.verify(solve(pow.issue("news", 100)), "news", 1000) is PowError.TOO_EASY


def check_run(check: PowCheck, policy: dict[str, Any], **extras: Any) -> list[str]:
    item = Inspection(draft("hello", site_id="news", extras=extras), parse_policy(policy))
    return [f.reason.code for f in check.run(item) if f.action is Action.REFUSE]


def test_it_requires_a_solution_and_refuses_a_replay() -> None:
    spent: set[str] = set()

    def spend(solved: Solved) -> bool:
        if solved.challenge in spent:
            return False
        spent.add(solved.challenge)
        return True

    pow = ProofOfWork("key")
    check = PowCheck(pow, AttackMeter(RateLimiter()), spend)
    policy = {"pow": {"mode": "always", "difficulty": 500}}
    assert check_run(check, policy) == ["pow_required"]
    answer = solve(pow.issue("news", 500))
    assert check_run(check, policy, pow=answer) == []
    assert check_run(check, policy, pow=answer) == ["pow_replayed"]


def test_it_raises_the_difficulty_for_an_ip_under_attack() -> None:
    meter = AttackMeter(RateLimiter())
    policy = parse_policy({"pow": {"mode": "under_attack", "difficulty": 100,
                                   "attack_ip_per_minute": 3}}).pow
    calm = meter.requirement(policy, "news", "ip1", "/a")
    assert not calm.required and calm.difficulty == 100
    for _ in range(6):
        meter.record("news", "ip1", "/a")
    hot = meter.requirement(policy, "news", "ip1", "/a")
    assert hot.required and hot.level == 2 and hot.difficulty == 1000
    assert not meter.requirement(policy, "news", "ip2", "/b").required
