"""Signed tokens handed to anonymous readers: edit rights and voter ids."""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, want_bytes


class _KeptKeySigner(TimestampSigner):
    """TimestampSigner that derives its keys once instead of on every sign and check, and
    signs with the one-shot HMAC; the tokens are the same bytes."""

    def __init__(self, secret: str, salt: str) -> None:
        super().__init__(secret, salt=salt)
        self._keys: dict[bytes | str | None, bytes] = {}
        self._digest = self.digest_method().name

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self._keys.get(secret_key)
        if key is None:
            key = self._keys[secret_key] = super().derive_key(secret_key)
        return key

    def get_signature(self, value: str | bytes) -> bytes:
        return base64_encode(hmac.digest(self.derive_key(), want_bytes(value), self._digest))


class _Signed:
    """A timestamped signature over a short string (no JSON, no compression: this runs on
    every post and vote)."""

    def __init__(self, secret: str, salt: str) -> None:
        self._signer = _KeptKeySigner(secret, salt)

    def dumps(self, value: int | str) -> str:
        return self._signer.sign(str(value)).decode()

    def loads(self, token: str, max_age: int | None = None) -> str:
        return self._signer.unsign(token, max_age=max_age).decode()


class Tokens:
    """Signs and checks tokens with the server's secret; no state kept server-side."""

    def __init__(self, secret: str) -> None:
        self._edit = _Signed(secret, "rostra.edit")
        self._voter = _Signed(secret, "rostra.voter")
        self._statement = _Signed(secret, "rostra.dsa-statement")
        self._notice = _Signed(secret, "rostra.dsa-notice")
        self._sign_in = URLSafeTimedSerializer(secret, salt="rostra.sign-in")

    def edit_token(self, comment_id: int) -> str:
        return self._edit.dumps(comment_id)

    def check_edit_token(self, token: str | None, comment_id: int, max_age: int) -> str:
        """'ok', 'expired' or 'invalid' for this comment's edit token."""
        if not token:
            return "invalid"
        try:
            value = self._edit.loads(token, max_age=max_age)
        except SignatureExpired:
            try:
                value = self._edit.loads(token)
            except BadSignature:
                return "invalid"
            return "expired" if value == str(comment_id) else "invalid"
        except BadSignature:
            return "invalid"
        return "ok" if value == str(comment_id) else "invalid"

    def proves_author(self, token: str | None, comment_id: int) -> bool:
        """True when the token was issued for this comment, however old."""
        if not token:
            return False
        try:
            return self._edit.loads(token) == str(comment_id)
        except BadSignature:
            return False

    def statement_token(self, statement_id: int) -> str:
        """The key to one statement of reasons and its appeal, sent to the author by email."""
        return self._statement.dumps(statement_id)

    def statement_of(self, token: str | None) -> int | None:
        """The statement id a statement token was issued for, or None."""
        if not token or len(token) > 200:
            return None
        try:
            value = self._statement.loads(token)
        except (BadSignature, UnicodeDecodeError):
            return None
        return int(value) if value.isdigit() else None

    def notice_token(self, notice_id: int) -> str:
        """The key to one DSA notice's decision and the notifier's complaint against
        it, sent to the notifier by email."""
        return self._notice.dumps(notice_id)

    def notice_of(self, token: str | None) -> int | None:
        """The notice id a notice token was issued for, or None."""
        if not token or len(token) > 200:
            return None
        try:
            value = self._notice.loads(token)
        except (BadSignature, UnicodeDecodeError):
            return None
        return int(value) if value.isdigit() else None

    def new_voter(self) -> tuple[str, str]:
        """(voter id, signed voter token) for a reader who has none yet."""
        voter_id = secrets.token_urlsafe(12)
        return voter_id, self._voter.dumps(voter_id)

    def voter_id(self, token: str | None) -> str | None:
        """The voter id inside a signed voter token, or None when it is not ours."""
        if not token or len(token) > 200:
            return None
        try:
            return self._voter.loads(token)
        except (BadSignature, UnicodeDecodeError):
            return None

    def sign_in_state(self, data: dict[str, str]) -> str:
        """What a sign-in in progress keeps in the reader's browser (a signed cookie)."""
        return self._sign_in.dumps(data)

    def sign_in_state_of(self, token: str | None, max_age: int) -> dict[str, str] | None:
        if not token or len(token) > 2000:
            return None
        try:
            data = self._sign_in.loads(token, max_age=max_age)
        except BadSignature:
            return None
        return data if isinstance(data, dict) else None
