"""Per-site settings: defaults, and validation with messages a site owner can act on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rostra.core.errors import InvalidInput
from rostra.core.models import ThreadCreation

# Feature modules validate their own section ("moderation", "notifications"): each
# registers a function that raises InvalidInput naming the bad key.
SECTION_VALIDATORS: dict[str, Callable[[dict[str, Any]], object]] = {}


def register_section(name: str, validate: Callable[[dict[str, Any]], object]) -> None:
    SECTION_VALIDATORS[name] = validate


@dataclass(frozen=True, slots=True)
class SignInSettings:
    """How readers of the site may sign in (besides the host site's own sign-on)."""

    email: bool = True  # email links (when the server can send email)
    passkeys: bool = True
    # The server's OpenID Connect providers the site offers, by name; None: all of them.
    providers: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, value: Any) -> SignInSettings:
        if not isinstance(value, dict):
            raise InvalidInput("sign_in: must be an object")
        unknown = sorted(set(value) - {"email", "passkeys", "providers"})
        if unknown:
            raise InvalidInput(f"sign_in: unknown key(s): {', '.join(unknown)}")
        for key in ("email", "passkeys"):
            if key in value and not isinstance(value[key], bool):
                raise InvalidInput(f"sign_in.{key}: must be true or false")
        providers = value.get("providers")
        if providers is not None and not (
            isinstance(providers, list) and len(providers) <= 50
            and all(isinstance(p, str) and 0 < len(p) <= 40 for p in providers)
        ):
            raise InvalidInput("sign_in.providers: a list of provider names, or null for all")
        return cls(email=value.get("email", True), passkeys=value.get("passkeys", True),
                   providers=tuple(dict.fromkeys(providers)) if providers is not None else None)

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "passkeys": self.passkeys,
                "providers": list(self.providers) if self.providers is not None else None}


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """What a site's owner may tune. Unknown keys are refused, not ignored."""

    edit_window_seconds: int = 900
    thread_creation: ThreadCreation = ThreadCreation.OPEN
    allow_images: bool = False
    require_name: bool = True
    max_comment_length: int = 10_000
    max_depth: int = 50
    page_size: int = 20
    languages: tuple[str, ...] = ()
    sign_in: SignInSettings = field(default_factory=SignInSettings)
    # Sections owned by feature modules, which validate their own keys.
    moderation: dict[str, Any] = field(default_factory=dict)
    notifications: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: dict[str, Any] | None) -> SiteSettings:
        """Build settings from stored or submitted JSON; raises InvalidInput naming the key."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"unknown site setting(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            values[f.name] = _coerce(f.name, data[f.name])
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["thread_creation"] = str(self.thread_creation)
        out["languages"] = list(self.languages)
        out["sign_in"] = self.sign_in.to_json()
        return out


_INT_RANGES = {
    "edit_window_seconds": (0, 7 * 86400),
    "max_comment_length": (100, 100_000),
    "max_depth": (1, 200),
    "page_size": (1, 500),
}


def _coerce(name: str, value: Any) -> Any:
    if name in _INT_RANGES:
        low, high = _INT_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{name}: must be a whole number from {low} to {high}")
        return value
    if name in {"allow_images", "require_name"}:
        if not isinstance(value, bool):
            raise InvalidInput(f"{name}: must be true or false")
        return value
    if name == "thread_creation":
        try:
            return ThreadCreation(value)
        except ValueError:
            choices = ", ".join(t.value for t in ThreadCreation)
            raise InvalidInput(f"thread_creation: must be one of {choices}") from None
    if name in {"moderation", "notifications"}:
        if not isinstance(value, dict):
            raise InvalidInput(f"{name}: must be an object")
        validate = SECTION_VALIDATORS.get(name)
        if validate is not None:
            validate(value)
        return value
    if name == "sign_in":
        return SignInSettings.parse(value)
    if name == "languages":
        if not isinstance(value, list) or not all(
            isinstance(v, str) and 2 <= len(v) <= 8 for v in value
        ):
            raise InvalidInput("languages: must be a list of language codes such as \"en\"")
        return tuple(value)
    raise InvalidInput(f"{name}: unsupported")  # pragma: no cover - guarded by parse
