"""A site's moderation policy: parsed from the ``moderation`` section of its settings.

Every key is optional; unknown keys and bad values are refused with an InvalidInput
naming the key (``moderation.thresholds.toxicity_hold: ...``), so a site owner can fix
them. ``docs/moderation.md`` lists every key with its default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from limits import parse_many

from rostra.core.errors import InvalidInput


class Mode(StrEnum):
    """What happens to a comment no check objected to."""

    POST = "post"  # publish, moderators review afterwards (post-moderation)
    FIRST_TIME = "first_time"  # hold until one of the author's comments was approved
    ALL = "all"  # hold everything (pre-moderation)


class PowMode(StrEnum):
    OFF = "off"
    UNDER_ATTACK = "under_attack"  # required from an IP hash or thread that posts a lot
    ALWAYS = "always"


class ListAction(StrEnum):
    """What a blocklist hit does."""

    REFUSE = "refuse"
    SPAM = "spam"
    HOLD = "hold"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The line each signal must cross. Scores are 0..1; 0 turns a count check off."""

    # The classifier's lines (probabilities; the defaults are chosen with the model in
    # tools/toxicity/train_real.py, see docs/moderation.md).
    toxicity_nudge: float = 0.79  # abuse: ask the author once to reconsider
    toxicity_hold: float = 0.86  # abuse: hold for a moderator
    toxicity_refuse: float = 0.955  # abuse: refuse outright
    threat_hold: float = 0.825  # a threat, at this score, is held without a nudge
    identity_hate_hold: float = 0.865  # an attack on a group, likewise
    profanity_nudge: float = 0.705  # swearing at no one: nudged, never held
    spam_line: float = 0.85  # an advert: stored as spam for moderators
    max_links: int = 3  # more links than this: hold
    caps_ratio: float = 0.7  # share of upper-case letters that counts as shouting...
    caps_min_letters: int = 20  # ...in a text with at least this many letters
    min_length: int = 1  # fewer characters: refused
    hold_length: int = 0  # more characters: held (0: off)
    duplicate_similarity: float = 0.8  # estimated Jaccard similarity of two texts' shingles
    flood_copies: int = 3  # this many near-copies in the window from anyone: spam
    duplicate_window_seconds: int = 3600
    flags_to_hold: int = 3  # flags from distinct readers that hold a published comment
    bad_history: int = 2  # rejected+spam decisions that hold an author's comments
    language_confidence: float = 0.9  # how sure detection must be to hold a foreign text


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Rate limits in the `limits` notation ("10/minute;100/hour"); "" turns one off."""

    post_author: str = "10/minute;100/hour"  # per account, voter id and IP hash each
    post_thread: str = "120/minute"
    vote: str = "60/minute;600/hour"
    flag: str = "20/hour"
    subscribe: str = "10/hour"
    notice: str = "10/hour"  # DSA notices of illegal content, per reader
    appeal: str = "10/hour"  # appeals against statements of reasons, per reader
    complaint: str = "10/hour"  # notifiers' complaints about notices' decisions, per reader
    # Sign-in ceremonies that write before anyone is signed in (passkey challenges,
    # email codes traded for sessions), per reader.
    sign_in: str = "20/minute;200/hour"


@dataclass(frozen=True, slots=True)
class PowPolicy:
    mode: PowMode = PowMode.OFF
    # The counters an ALTCHA challenge may take: the solver tries about half of them
    # (50k: 0.2 to 0.4 s in headless Chromium on a busy 2-core machine).
    difficulty: int = 50_000
    # Posts in a minute from one IP hash, or into one thread, that mean "under attack":
    # the challenge is then required (under_attack) and grows 10x per multiple of it.
    attack_ip_per_minute: int = 5
    attack_thread_per_minute: int = 30
    max_difficulty: int = 5_000_000


@dataclass(frozen=True, slots=True)
class Ground:
    """A legal ground a reader may name in a DSA notice: a stable code and its label."""

    code: str
    label: str


# The statement categories of the EU's DSA Transparency Database, for sites that list
# no grounds of their own.
DEFAULT_GROUNDS = (
    Ground("illegal_or_harmful_speech", "Illegal hate speech, incitement or defamation"),
    Ground("violence", "Threats or incitement to violence"),
    Ground("risk_for_public_security", "Terrorist content or risk for public security"),
    Ground("protection_of_minors", "Child sexual abuse material or harm to minors"),
    Ground("data_protection_and_privacy_violations", "Privacy violation or doxxing"),
    Ground("intellectual_property_infringements", "Copyright or trademark infringement"),
    Ground("scams_and_fraud", "Scam or fraud"),
    Ground("non_consensual_behaviour", "Non-consensual intimate images"),
    Ground("other", "Other illegal content"),
)


@dataclass(frozen=True, slots=True)
class DsaPolicy:
    """EU Digital Services Act notice and action (see docs/dsa.md)."""

    grounds: tuple[Ground, ...] = DEFAULT_GROUNDS
    notice_hours: int = 24  # the deadline the notices queue shows for each notice
    # Where authors may turn besides the appeal (out-of-court dispute settlement, courts).
    redress: str = ""


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """Earned trust (see docs/moderation.md, Earned trust): rules that hold comments
    from commenters the site does not know yet, and the line past which it trusts them."""

    first_comments_held: int = 0  # hold until this many of the author's comments were approved
    links_need_approved: int = 0  # comments with links wait until this many were approved
    account_min_days: int = 0  # signed-in accounts younger than this are held
    trusted_after: int = 10  # trust score (approved - 3 x rejected/spam - 10 x notices)
    regular_badge: bool = False  # readers see "Regular" on trusted commenters' comments


@dataclass(frozen=True, slots=True)
class Policy:
    mode: Mode = Mode.POST
    held_message: str = "Your comment is awaiting moderation."
    refused_message: str = "This comment cannot be published."
    thresholds: Thresholds = field(default_factory=Thresholds)
    rate_limits: RateLimits = field(default_factory=RateLimits)
    pow: PowPolicy = field(default_factory=PowPolicy)
    blocked_domains: tuple[str, ...] = ()
    blocklist: tuple[str, ...] = ()
    blocklist_action: ListAction = ListAction.REFUSE
    suspect_words: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # empty: any language
    toxicity: bool = True  # run the classifier (when the server has one)
    dsa: DsaPolicy = field(default_factory=DsaPolicy)
    trust: TrustPolicy = field(default_factory=TrustPolicy)


DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
LANG = re.compile(r"^[a-z]{2,3}$")


def parse_policy(data: dict[str, Any] | None) -> Policy:
    """The Policy a ``moderation`` settings section describes; raises InvalidInput."""
    data = dict(data or {})
    _no_unknown("moderation", data, {f.name for f in fields(Policy)})
    values: dict[str, Any] = {}
    if "mode" in data:
        values["mode"] = _enum("moderation.mode", Mode, data["mode"])
    for name in ("held_message", "refused_message"):
        if name in data:
            values[name] = _text(f"moderation.{name}", data[name], 500)
    if "thresholds" in data:
        values["thresholds"] = _thresholds(_object("moderation.thresholds", data["thresholds"]))
    if "rate_limits" in data:
        values["rate_limits"] = _rate_limits(_object("moderation.rate_limits", data["rate_limits"]))
    if "pow" in data:
        values["pow"] = _pow(data["pow"])
    if "blocked_domains" in data:
        domains = _words("moderation.blocked_domains", data["blocked_domains"])
        for domain in domains:
            if not DOMAIN.match(domain.lower()):
                raise InvalidInput(f"moderation.blocked_domains: {domain[:100]!r} is not a domain")
        values["blocked_domains"] = tuple(d.lower() for d in domains)
    for name in ("blocklist", "suspect_words"):
        if name in data:
            values[name] = _words(f"moderation.{name}", data[name])
    if "blocklist_action" in data:
        values["blocklist_action"] = _enum(
            "moderation.blocklist_action", ListAction, data["blocklist_action"]
        )
    if "languages" in data:
        langs = _words("moderation.languages", data["languages"])
        if not all(LANG.match(code) for code in langs):
            raise InvalidInput("moderation.languages: ISO 639-1 codes such as \"en\", \"sk\"")
        values["languages"] = langs
    if "toxicity" in data:
        values["toxicity"] = _bool("moderation.toxicity", data["toxicity"])
    if "dsa" in data:
        values["dsa"] = _dsa(_object("moderation.dsa", data["dsa"]))
    if "trust" in data:
        values["trust"] = _trust(_object("moderation.trust", data["trust"]))
    policy = Policy(**values)
    t = policy.thresholds
    if not t.toxicity_nudge <= t.toxicity_hold <= t.toxicity_refuse:
        raise InvalidInput(
            "moderation.thresholds: toxicity_nudge <= toxicity_hold <= toxicity_refuse"
        )
    return policy


def validate_section(data: dict[str, Any]) -> None:
    """Raise InvalidInput unless ``data`` is a valid moderation section."""
    parse_policy(data)


# -- helpers -----------------------------------------------------------------

_FLOATS = {
    "toxicity_nudge", "toxicity_hold", "toxicity_refuse", "threat_hold", "identity_hate_hold",
    "profanity_nudge", "spam_line", "caps_ratio",
    "duplicate_similarity", "language_confidence",
}
_INT_RANGES = {
    "max_links": (0, 1000),
    "caps_min_letters": (1, 10_000),
    "min_length": (1, 10_000),
    "hold_length": (0, 100_000),
    "flood_copies": (0, 1000),
    "duplicate_window_seconds": (60, 7 * 86400),
    "flags_to_hold": (0, 1000),
    "bad_history": (0, 1000),
}


def _thresholds(data: dict[str, Any]) -> Thresholds:
    _no_unknown("moderation.thresholds", data, {f.name for f in fields(Thresholds)})
    values: dict[str, Any] = {}
    for name, value in data.items():
        key = f"moderation.thresholds.{name}"
        if name in _FLOATS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                0.0 <= value <= 1.0
            ):
                raise InvalidInput(f"{key}: must be a number from 0 to 1")
            values[name] = float(value)
        else:
            low, high = _INT_RANGES[name]
            values[name] = _int(key, value, low, high)
    return Thresholds(**values)


GROUND_CODE = re.compile(r"[a-z0-9_]{1,64}")  # fullmatch: "$" would let a final "\n" in


def _dsa(data: dict[str, Any]) -> DsaPolicy:
    _no_unknown("moderation.dsa", data, {f.name for f in fields(DsaPolicy)})
    values: dict[str, Any] = {}
    if "grounds" in data:
        raw = data["grounds"]
        if not isinstance(raw, list) or not 1 <= len(raw) <= 100:
            raise InvalidInput("moderation.dsa.grounds: a list of 1 to 100 "
                               "{\"code\": ..., \"label\": ...} objects")
        grounds = []
        for item in raw:
            if (not isinstance(item, dict) or set(item) != {"code", "label"}
                    or not isinstance(item["code"], str) or not GROUND_CODE.fullmatch(item["code"])
                    or not isinstance(item["label"], str)
                    or not 0 < len(item["label"].strip()) <= 200):
                raise InvalidInput("moderation.dsa.grounds: each ground is {\"code\": "
                                   "lower-case letters, digits and _, \"label\": 1 to 200 "
                                   "characters}")
            grounds.append(Ground(item["code"], item["label"].strip()))
        if len({g.code for g in grounds}) != len(grounds):
            raise InvalidInput("moderation.dsa.grounds: each code once")
        values["grounds"] = tuple(grounds)
    if "notice_hours" in data:
        values["notice_hours"] = _int("moderation.dsa.notice_hours", data["notice_hours"],
                                      1, 24 * 90)
    if "redress" in data:
        values["redress"] = _text("moderation.dsa.redress", data["redress"], 1000)
    return DsaPolicy(**values)


_TRUST_RANGES = {
    "first_comments_held": (0, 1000), "links_need_approved": (0, 1000),
    "account_min_days": (0, 3650), "trusted_after": (1, 100_000),
}


def _trust(data: dict[str, Any]) -> TrustPolicy:
    _no_unknown("moderation.trust", data, {*_TRUST_RANGES, "regular_badge"})
    values: dict[str, Any] = {
        name: _int(f"moderation.trust.{name}", value, *_TRUST_RANGES[name])
        for name, value in data.items() if name != "regular_badge"}
    if "regular_badge" in data:
        if not isinstance(data["regular_badge"], bool):
            raise InvalidInput("moderation.trust.regular_badge: must be true or false")
        values["regular_badge"] = data["regular_badge"]
    return TrustPolicy(**values)


def _rate_limits(data: dict[str, Any]) -> RateLimits:
    _no_unknown("moderation.rate_limits", data, {f.name for f in fields(RateLimits)})
    values: dict[str, Any] = {}
    for name, value in data.items():
        key = f"moderation.rate_limits.{name}"
        if not isinstance(value, str):
            raise InvalidInput(f"{key}: a string such as \"10/minute;100/hour\", or \"\"")
        if value.strip():
            try:
                parse_many(value)
            except ValueError:
                raise InvalidInput(
                    f"{key}: {value[:100]!r} is not a rate such as \"10/minute;100/hour\""
                ) from None
        values[name] = value.strip()
    return RateLimits(**values)


def _pow(value: Any) -> PowPolicy:
    if isinstance(value, str):
        return PowPolicy(mode=_enum("moderation.pow", PowMode, value))
    data = _object("moderation.pow", value)
    _no_unknown("moderation.pow", data, {f.name for f in fields(PowPolicy)})
    values: dict[str, Any] = {}
    if "mode" in data:
        values["mode"] = _enum("moderation.pow.mode", PowMode, data["mode"])
    for name, (low, high) in {
        "difficulty": (10, 10_000_000),
        "attack_ip_per_minute": (1, 100_000),
        "attack_thread_per_minute": (1, 100_000),
        "max_difficulty": (10, 100_000_000),
    }.items():
        if name in data:
            values[name] = _int(f"moderation.pow.{name}", data[name], low, high)
    return PowPolicy(**values)


def _no_unknown(where: str, data: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )


def _object(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{key}: must be an object")
    return value


def _enum(key: str, enum: type[StrEnum], value: Any) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise InvalidInput(f"{key}: must be one of {choices}") from None


def _text(key: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInput(f"{key}: a text of 1 to {limit} characters")
    return value.strip()


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{key}: must be true or false")
    return value


def _int(key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{key}: must be a whole number from {low} to {high}")
    return value


def _words(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and 0 < len(v.strip()) <= 200 for v in value
    ):
        raise InvalidInput(f"{key}: must be a list of non-empty texts (200 characters at most)")
    if len(value) > 10_000:
        raise InvalidInput(f"{key}: at most 10000 entries")
    return tuple(v.strip() for v in value)
