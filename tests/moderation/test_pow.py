"""Proof of work: challenges that verify once, expire, stay on their site, and grow
harder under attack."""

from __future__ import annotations

import base64
import time
from typing import Any

import altcha
import orjson
import pytest

from rostra.moderation.checks import Inspection
from rostra.moderation.checks.pow import AttackMeter, PowCheck
from rostra.moderation.decision import Action
from rostra.moderation.policy import parse_policy
from rostra.moderation.pow import PowError, ProofOfWork, Solved, solve
from rostra.moderation.ratelimit import RateLimiter
from tests.moderation.test_content_checks import draft


def reencode(answer: str, change: Any) -> str:
    data = orjson.loads(base64.b64decode(answer))
    change(data)
    return base64.b64encode(orjson.dumps(data)).decode()


def test_it_verifies_a_solved_challenge() -> None:
    pow = ProofOfWork("key")
    challenge = pow.issue("news", 2000)
    result = pow.verify(solve(challenge), "news", 2000)
    assert isinstance(result, Solved) and result.difficulty == 2000
    assert result.challenge == challenge["signature"]


def test_it_speaks_altcha() -> None:
    # The challenge is ALTCHA's (Proof-of-Work v2), so ALTCHA's own library solves it and
    # checks the answer with the same key.
    pow = ProofOfWork("key")
    challenge = pow.issue("news", 1000)
    assert challenge["parameters"]["algorithm"] == "SHA-256"
    assert challenge["parameters"]["cost"] == 1
    assert challenge["parameters"]["data"] == {"site": "news", "difficulty": 1000}
    answer = altcha.solve_challenge(altcha.Challenge.from_dict(challenge))
    assert answer is not None and 0 <= answer.counter <= 1000
    payload = altcha.Payload(altcha.Challenge.from_dict(challenge), answer).to_base64()
    assert altcha.verify_solution(payload, "key").verified
    assert isinstance(pow.verify(payload, "news", 1000), Solved)


def test_it_refuses_a_wrong_counter_or_a_forged_signature() -> None:
    pow = ProofOfWork("key")
    answer = solve(pow.issue("news", 100))

    def next_counter(data: dict[str, Any]) -> None:
        data["solution"]["counter"] += 1

    def easier(data: dict[str, Any]) -> None:
        data["challenge"]["parameters"]["data"]["difficulty"] = 100_000

    assert pow.verify(reencode(answer, next_counter), "news", 10) is PowError.WRONG
    assert pow.verify(reencode(answer, easier), "news", 10) is PowError.WRONG
    other = ProofOfWork("another key")
    assert other.verify(solve(pow.issue("news", 100)), "news", 10) is PowError.WRONG
    assert pow.verify(None, "news", 10) is PowError.MISSING


@pytest.mark.parametrize("payload", [
    "not base64!", base64.b64encode(b"[1, 2]").decode(), base64.b64encode(b'"x"').decode(),
    base64.b64encode(b'{"challenge": [], "solution": {}}').decode(),
    base64.b64encode(b'{"challenge": {"parameters": 1}, "solution": 2}').decode(),
    base64.b64encode(b"[" * 1400).decode(),  # nested too deep for the JSON parser
    base64.b64encode(b"\xff\xfe").decode(), "A" * 5000,
])
def test_it_refuses_malformed_payloads(payload: str) -> None:
    assert ProofOfWork("key").verify(payload, "news", 10) in (PowError.MALFORMED, PowError.WRONG)


def test_it_refuses_an_answer_in_the_earlier_altcha_format() -> None:
    # What a page still running the solver from before the upgrade sends: refused as
    # invalid, after which the widget fetches a fresh challenge.
    old = {"algorithm": "SHA-256", "challenge": "ab" * 32, "number": 7,
           "salt": "0011?expires=9999999999&site=news&d=100", "signature": "cd" * 32}
    payload = base64.b64encode(orjson.dumps(old)).decode()
    assert ProofOfWork("key").verify(payload, "news", 10) is PowError.MALFORMED


def test_it_refuses_an_expired_challenge_or_one_for_another_site() -> None:
    pow = ProofOfWork("key", lifetime=60)
    stale = solve(pow.issue("news", 100, now=time.time() - 120))
    assert pow.verify(stale, "news", 10) is PowError.EXPIRED
    assert pow.verify(solve(pow.issue("news", 100)), "blog", 10) is PowError.OTHER_SITE


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
