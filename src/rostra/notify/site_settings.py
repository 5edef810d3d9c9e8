"""The ``notifications`` section of a site's settings, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rostra.core.errors import InvalidInput

EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,252}\.[^@\s<>\"]{2,63}$")
KNOWN = {"moderator_emails", "moderator_digest", "moderator_digest_seconds"}


@dataclass(frozen=True, slots=True)
class NotifySettings:
    """Who hears about held and flagged comments, and how often.

    ``moderator_digest`` false: one email per alert as soon as the worker runs;
    true: alerts are gathered for ``moderator_digest_seconds`` into one email.
    """

    moderator_emails: tuple[str, ...] = ()
    moderator_digest: bool = False
    moderator_digest_seconds: int = 3600


def parse_notify_settings(data: dict[str, Any] | None) -> NotifySettings:
    """Validate a site's ``notifications`` section; raises InvalidInput naming the key."""
    data = dict(data or {})
    unknown = sorted(set(data) - KNOWN)
    if unknown:
        raise InvalidInput(f"notifications: unknown key(s): {', '.join(unknown)}")
    emails = data.get("moderator_emails", [])
    if not isinstance(emails, list) or not all(
        isinstance(e, str) and EMAIL.match(e.strip()) for e in emails
    ):
        raise InvalidInput("notifications.moderator_emails: must be a list of email addresses")
    digest = data.get("moderator_digest", False)
    if not isinstance(digest, bool):
        raise InvalidInput("notifications.moderator_digest: must be true or false")
    seconds = data.get("moderator_digest_seconds", 3600)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 60 <= seconds <= 7 * 86400:
        raise InvalidInput(
            "notifications.moderator_digest_seconds: must be a whole number from 60 to 604800"
        )
    unique = tuple(dict.fromkeys(e.strip().lower() for e in emails))
    return NotifySettings(unique, digest, seconds)
