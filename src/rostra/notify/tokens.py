"""Signed, expiring tokens in notification links (confirm, manage, unsubscribe)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

CONFIRM_MAX_AGE = 14 * 86400
ADDRESS_MAX_AGE = 180 * 86400


@dataclass(frozen=True, slots=True)
class AddressClaim:
    """Who a link speaks for: an address, and optionally the subscriptions an email
    was about (one-click unsubscribe ends exactly those; confirming confirms exactly
    those), and when the link was signed."""

    address_id: int
    email: str
    subscription_ids: tuple[int, ...] = ()
    issued_at: datetime | None = None
    # Signed into a confirmation email's one-click unsubscribe: its reader's "not me".
    not_me: bool = False


class NotifyTokens:
    """Signs link tokens with the server's secret; the address is checked again on use,
    so a token outlives neither its address nor its expiry."""

    def __init__(self, secret: str) -> None:
        self._confirm = URLSafeTimedSerializer(secret, salt="rostra.notify.confirm")
        self._address = URLSafeTimedSerializer(secret, salt="rostra.notify.address")
        self._sign_in = URLSafeTimedSerializer(secret, salt="rostra.sign-in.email")
        # The same signature as rostra.services.tokens.Tokens.statement_token, which
        # checks it when the link is followed.
        self._statement = TimestampSigner(secret, salt="rostra.dsa-statement")
        self._notice = TimestampSigner(secret, salt="rostra.dsa-notice")  # notice_token

    def statement_token(self, statement_id: int) -> str:
        """The link to a statement of reasons and its appeal form (see services.dsa)."""
        return self._statement.sign(str(statement_id)).decode()

    def notice_token(self, notice_id: int) -> str:
        """The link to a notice's decision and the notifier's complaint form."""
        return self._notice.sign(str(notice_id)).decode()

    def confirm_token(
        self, address_id: int, email: str, subscription_ids: tuple[int, ...] = ()
    ) -> str:
        """The link of a confirmation email: confirms the subscriptions it names (a
        token without any, from before consent per subscription, those made by the time
        it was signed)."""
        return self._confirm.dumps({"a": address_id, "e": email, "s": list(subscription_ids)})

    def address_token(
        self, address_id: int, email: str, subscription_ids: tuple[int, ...] = (),
        not_me: bool = False,
    ) -> str:
        """Unsubscribe and manage links. ``not_me``: a confirmation email's, whose
        one-click unsubscribe also says "not me" (SubscriptionService.not_me)."""
        data: dict[str, object] = {"a": address_id, "e": email, "s": list(subscription_ids)}
        if not_me:
            data["n"] = 1
        return self._address.dumps(data)

    def check_confirm(self, token: str) -> AddressClaim | None:
        return _claim(self._confirm, token, CONFIRM_MAX_AGE)

    def check_address(self, token: str) -> AddressClaim | None:
        return _claim(self._address, token, ADDRESS_MAX_AGE)

    def sign_in_token(self, link_id: int) -> str:
        """The token of an email sign-in link (the row is checked again on use)."""
        return self._sign_in.dumps(link_id)

    def check_sign_in(self, token: str | None, max_age: int) -> int | None:
        """The link id a sign-in token names, or None when forged or too old."""
        if not token or len(token) > 500:
            return None
        try:
            value = self._sign_in.loads(token, max_age=max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def _claim(serializer: URLSafeTimedSerializer, token: str, max_age: int) -> AddressClaim | None:
    if not token or len(token) > 2000:
        return None
    try:
        data, issued_at = serializer.loads(token, max_age=max_age, return_timestamp=True)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    address_id, email, subs = data.get("a"), data.get("e"), data.get("s", [])
    if not isinstance(address_id, int) or not isinstance(email, str) or not isinstance(subs, list):
        return None
    return AddressClaim(address_id, email, tuple(int(s) for s in subs if isinstance(s, int)),
                        issued_at, not_me=data.get("n") == 1)
