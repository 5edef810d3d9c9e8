"""The site settings form: from form fields to the settings JSON, validated with the
messages of the modules that own each section."""

from __future__ import annotations

import re
from typing import Any

from rostra.core.errors import InvalidInput
from rostra.core.site_settings import SiteSettings
from rostra.moderation.policy import Thresholds, TrustPolicy

MODES = ("post", "first_time", "all")
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$")
THRESHOLDS = {  # form field -> (kind, label)
    "toxicity_nudge": (float, "Ask the author to reconsider when abuse is at least"),
    "toxicity_hold": (float, "Hold when abuse is at least"),
    "toxicity_refuse": (float, "Refuse when abuse is at least"),
    "threat_hold": (float, "Hold a threat (without asking first) when its score is at least"),
    "identity_hate_hold": (float, "Hold an attack on a group when its score is at least"),
    "profanity_nudge": (float, "Ask to reconsider strong language when its score is at least"),
    "spam_line": (float, "File as spam when the spam score is at least"),
    "max_links": (int, "Hold with more links than"),
    "flags_to_hold": (int, "Reader flags that hold a published comment"),
}


TRUST = {  # form field -> label (moderation.trust, whole numbers)
    "first_comments_held": "Hold an author's comments until this many were approved",
    "links_need_approved": "Hold comments with links until the author has this many approved",
    "account_min_days": "Hold signed-in accounts younger than (days)",
    "trusted_after": "Trust an author from this trust score (approved − 3 × rejected or spam)",
}

# What an empty field means, shown beside it.
THRESHOLD_DEFAULTS = {name: getattr(Thresholds(), name) for name in THRESHOLDS}
TRUST_DEFAULTS = {name: getattr(TrustPolicy(), name) for name in TRUST}


def _number(name: str, value: str, kind: type) -> Any:
    try:
        return kind(value)
    except ValueError:
        what = "a whole number" if kind is int else "a number such as 0.75"
        raise InvalidInput(f"{name}: must be {what}") from None


def _lines(value: str) -> list[str]:
    return [v.strip() for v in value.replace(",", "\n").splitlines() if v.strip()]


def settings_from_form(current: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """The site's settings with the form's changes applied; raises InvalidInput naming
    the field. Keys the form does not show are kept as they were."""
    merged = dict(current)
    merged["thread_creation"] = form.get("thread_creation", "open")
    minutes = form.get("edit_window_minutes", "").strip()
    if minutes:
        merged["edit_window_seconds"] = _number("edit_window_minutes", minutes, int) * 60
    languages = [code.lower() for code in _lines(form.get("languages", ""))]
    if not all(LANGUAGE.match(code) for code in languages):
        raise InvalidInput('languages: must be a list of language codes such as "en", "pt-br"')
    merged["languages"] = languages
    moderation = dict(merged.get("moderation") or {})
    mode = form.get("mode", "post")
    moderation["mode"] = mode
    thresholds = dict(moderation.get("thresholds") or {})
    for name, (kind, _label) in THRESHOLDS.items():
        raw = form.get(name, "").strip()
        if raw:
            thresholds[name] = _number(f"moderation.thresholds.{name}", raw, kind)
        else:
            thresholds.pop(name, None)
    moderation["thresholds"] = thresholds
    if form.get("trust_form"):  # the form showed the earned-trust fields
        trust = dict(moderation.get("trust") or {})
        for name in TRUST:
            raw = form.get(name, "").strip()
            if raw:
                trust[name] = _number(f"moderation.trust.{name}", raw, int)
            else:
                trust.pop(name, None)
        trust["regular_badge"] = form.get("regular_badge") in ("1", "on")
        moderation["trust"] = trust
    merged["moderation"] = moderation
    notifications = dict(merged.get("notifications") or {})
    notifications["moderator_emails"] = _lines(form.get("moderator_emails", ""))
    notifications["moderator_digest"] = form.get("moderator_digest") in ("1", "on")
    digest_minutes = form.get("digest_minutes", "").strip()
    if digest_minutes:
        notifications["moderator_digest_seconds"] = _number(
            "notifications.digest_minutes", digest_minutes, int) * 60
    merged["notifications"] = notifications
    if form.get("sign_in_form"):  # the form showed the sign-in fields
        on = ("1", "on")
        merged["sign_in"] = {
            "email": form.get("sign_in_email") in on,
            "passkeys": form.get("sign_in_passkeys") in on,
            "providers": None if form.get("sign_in_all") in on else sorted(
                key.removeprefix("provider_") for key, value in form.items()
                if key.startswith("provider_") and value in on),
        }
    validate(merged)
    return merged


def validate(settings: dict[str, Any]) -> None:
    """Raise InvalidInput unless every section of ``settings`` is valid."""
    parsed = SiteSettings.parse(settings)
    try:
        from rostra.moderation.policy import parse_policy
    except ImportError:  # pragma: no cover - moderation not in this build
        pass
    else:
        parse_policy(parsed.moderation)
    try:
        from rostra.notify.site_settings import parse_notify_settings
    except ImportError:  # pragma: no cover - notifications not in this build
        pass
    else:
        parse_notify_settings(parsed.notifications)


def form_values(site_name: str, origins: tuple[str, ...] | list[str],
                settings: dict[str, Any]) -> dict[str, str]:
    """The form's fields for stored settings (the inverse of settings_from_form)."""
    parsed = SiteSettings.parse(settings)
    moderation = parsed.moderation
    thresholds = moderation.get("thresholds") or {}
    trust = moderation.get("trust") or {}
    notifications = parsed.notifications
    digest = notifications.get("moderator_digest_seconds")
    return {
        "name": site_name,
        "origins": "\n".join(origins),
        "thread_creation": str(parsed.thread_creation),
        "edit_window_minutes": str(parsed.edit_window_seconds // 60),
        "languages": ", ".join(parsed.languages),
        "mode": str(moderation.get("mode", "post")),
        **{name: str(thresholds[name]) if name in thresholds else ""
           for name in THRESHOLDS},
        **{name: str(trust[name]) if name in trust else "" for name in TRUST},
        "regular_badge": "1" if trust.get("regular_badge") is True else "",
        "moderator_emails": "\n".join(notifications.get("moderator_emails") or []),
        "moderator_digest": "1" if notifications.get("moderator_digest") else "",
        "digest_minutes": str(digest // 60) if isinstance(digest, int) else "",
        "sign_in_email": "1" if parsed.sign_in.email else "",
        "sign_in_passkeys": "1" if parsed.sign_in.passkeys else "",
        "sign_in_all": "1" if parsed.sign_in.providers is None else "",
        **{f"provider_{name}": "1" for name in parsed.sign_in.providers or ()},
    }


def form_defaults() -> dict[str, str]:
    """What an empty field of the form means: each threshold's default, and the digest's."""
    out = {name: str(value) for name, value in THRESHOLD_DEFAULTS.items()}
    out.update({name: str(value) for name, value in TRUST_DEFAULTS.items()})
    try:
        from rostra.notify.site_settings import NotifySettings
    except ImportError:  # pragma: no cover - notifications not in this build
        pass
    else:
        out["digest_minutes"] = str(NotifySettings().moderator_digest_seconds // 60)
    return out
