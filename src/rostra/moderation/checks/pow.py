"""Proof of work: demand a solved challenge when the site's policy asks for one, always
or only from an IP hash or into a thread that posts unusually much ("under attack")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rostra.moderation.checks import Finding, Inspection, finding
from rostra.moderation.decision import Action
from rostra.moderation.policy import PowMode, PowPolicy
from rostra.moderation.pow import PowError, ProofOfWork, Solved
from rostra.moderation.ratelimit import RateLimiter

MESSAGES = {
    PowError.MISSING: "Please let your browser solve the anti-spam puzzle, then send again.",
    PowError.MALFORMED: "The anti-spam puzzle's answer is not right; please send again.",
    PowError.EXPIRED: "The anti-spam puzzle expired; please send again.",
    PowError.TOO_EASY: "Please solve a new anti-spam puzzle and send again.",
    PowError.REPLAYED: "That anti-spam puzzle was used already; please send again.",
}


@dataclass(frozen=True, slots=True)
class Requirement:
    required: bool
    difficulty: int
    level: int  # 0: calm; each level is one more multiple of the attack rate


class AttackMeter:
    """How hard the challenge is for one IP hash and thread, from their recent posts."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def record(self, site_id: str, ip_hash: str | None, thread_key: str) -> None:
        if ip_hash:
            self.limiter.record(f"attack-ip:{site_id}", ip_hash)
        self.limiter.record(f"attack-thread:{site_id}", thread_key)

    def requirement(self, policy: PowPolicy, site_id: str, ip_hash: str | None,
                    thread_key: str | None) -> Requirement:
        if policy.mode is PowMode.OFF:
            return Requirement(False, policy.difficulty, 0)
        ip_posts = self.limiter.count(f"attack-ip:{site_id}", ip_hash) if ip_hash else 0
        thread_posts = (
            self.limiter.count(f"attack-thread:{site_id}", thread_key) if thread_key else 0
        )
        level = max(ip_posts // policy.attack_ip_per_minute,
                    thread_posts // policy.attack_thread_per_minute)
        required = policy.mode is PowMode.ALWAYS or level >= 1
        # Ten times the work per level above the first: an attack gets slower and slower.
        difficulty = min(policy.max_difficulty, policy.difficulty * 10 ** max(0, level - 1))
        return Requirement(required, difficulty, level)


class PowCheck:
    name = "pow"

    def __init__(self, pow: ProofOfWork, meter: AttackMeter,
                 spend: Callable[[Solved], bool]) -> None:
        self.pow = pow
        self.meter = meter
        # Marks a challenge spent; False when it was spent already (a replay).
        self.spend = spend

    def run(self, item: Inspection) -> Iterable[Finding]:
        draft, policy = item.draft, item.policy.pow
        if item.is_edit or policy.mode is PowMode.OFF:
            return
        need = self.meter.requirement(policy, draft.site_id, draft.ip_hash, draft.thread_key)
        self.meter.record(draft.site_id, draft.ip_hash, draft.thread_key)
        payload = draft.extras.get("pow")
        if not need.required and not payload:
            return
        # One level of slack: a challenge fetched just before the attack level rose.
        result = self.pow.verify(payload, draft.site_id, max(10, need.difficulty // 10))
        if isinstance(result, Solved) and not self.spend(result):
            result = PowError.REPLAYED
        if isinstance(result, PowError):
            if not need.required and result is not PowError.REPLAYED:
                return  # a stale answer nobody asked for is ignored
            yield finding(
                self.name, Action.REFUSE, result.value,
                f"proof of work {result.name.lower()} (difficulty {need.difficulty}, "
                f"attack level {need.level})", float(need.level),
                author_message=MESSAGES.get(result, MESSAGES[PowError.MALFORMED]),
            )
        else:
            item.facts["pow"] = {"difficulty": result.difficulty, "level": need.level}
