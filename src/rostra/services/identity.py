"""A signed-in reader's own account: who they are, their sessions (and devices),
signing out here or everywhere, claiming the comments they wrote anonymously under the
address they proved is theirs, and their data: a copy of it, or the account erased
(GDPR Art. 15, 17 and 20)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, update

from rostra.core.errors import InvalidInput, NotFound
from rostra.services.accounts import ReaderAccounts, SignedInReader
from rostra.services.personal_data import PersonalData
from rostra.services.sessions import OpenSession, SessionInfo
from rostra.store.account_tables import reader_accounts
from rostra.store.db import Database, attempts
from rostra.store.tables import comments, threads

# What the reader sends to erase their account: a value no stray or replayed call of
# another route carries, typed by the widget only after they confirmed.
ERASE_CONFIRMATION = "erase my account"


@dataclass(frozen=True, slots=True)
class AccountView:
    """What the account page shows its owner."""

    reader: SignedInReader
    method: str  # how this session began
    email_verified: bool
    sessions: list[SessionInfo]
    claimable: int  # anonymous comments on the site under the account's verified address


class ReaderIdentity:
    """Use cases of a reader's own account, each checked against their open session."""

    def __init__(self, db: Database, accounts: ReaderAccounts,
                 personal: PersonalData) -> None:
        self.db = db
        self.accounts = accounts
        self.personal = personal

    def _session(self, site_id: str, token: str | None) -> tuple[OpenSession, SignedInReader]:
        return self.accounts.in_session(site_id, token)

    def overview(self, site_id: str, token: str | None) -> AccountView:
        session, reader = self._session(site_id, token)
        verified = self._verified_email(reader.id)
        return AccountView(
            reader=reader, method=session.method, email_verified=verified is not None,
            sessions=self.accounts.sessions.of_account(reader.id, current=session.id),
            claimable=self._claimable(site_id, verified) if verified else 0,
        )

    def end_session(self, site_id: str, token: str | None, session_id: int) -> None:
        """End one of the reader's sessions (this one or another device's)."""
        _, reader = self._session(site_id, token)
        if not self.accounts.sessions.end(reader.id, session_id):
            raise NotFound(f"no session {session_id} on this account", code="session_not_found")

    def sign_out(self, site_id: str, token: str | None, *, everywhere: bool = False) -> int:
        """End this session, or every session of the account; how many ended."""
        session, reader = self._session(site_id, token)
        if everywhere:
            return self.accounts.sessions.end_all(reader.id)
        return int(self.accounts.sessions.end(reader.id, session.id))

    def claim(self, site_id: str, token: str | None) -> int:
        """Make the site's anonymous comments written under the account's verified
        address the account's own; how many. Nothing without a verified address."""
        _, reader = self._session(site_id, token)
        address = self._verified_email(reader.id)
        if address is None:
            return 0
        # Runs again after a deadlock or a connection lost before its COMMIT (not after
        # one lost at COMMIT: the second try would claim nothing and answer 0).
        for attempt in attempts("claiming comments"):
            with attempt, self.db.write() as conn:
                claimed = int(conn.execute(
                    update(comments).where(
                        comments.c.account_id.is_(None),
                        func.lower(comments.c.author_email) == address,
                        comments.c.thread_id.in_(
                            select(threads.c.id).where(threads.c.site_id == site_id)),
                    ).values(account_id=reader.id)
                ).rowcount)
        return claimed

    def own_data(self, site_id: str, token: str | None) -> dict[str, Any]:
        """Everything stored under the account (``rostra privacy export --subject``
        gathers the same): comments, votes, reports, subscriptions made signed in,
        sessions, passkeys, notes."""
        _, reader = self._session(site_id, token)
        return self.personal.export_account(reader.id)

    def erase(self, site_id: str, token: str | None, confirmation: str | None) -> dict[str, int]:
        """Erase the account as ``rostra privacy forget --subject`` does, when the reader
        sent ``ERASE_CONFIRMATION``; every session of it ends, this one too."""
        _, reader = self._session(site_id, token)
        if confirmation != ERASE_CONFIRMATION:
            raise InvalidInput(f"confirm: send {ERASE_CONFIRMATION!r} to erase the account")
        return self.personal.forget_account(reader.id, actor="reader")

    def _verified_email(self, account_id: int) -> str | None:
        with self.db.read() as conn:
            row = conn.execute(
                select(reader_accounts.c.email, reader_accounts.c.email_verified)
                .where(reader_accounts.c.id == account_id)
            ).first()
        if row is None or not row.email or not row.email_verified:
            return None
        return str(row.email).lower()

    def _claimable(self, site_id: str, address: str) -> int:
        with self.db.read() as conn:
            return int(conn.scalar(
                select(func.count()).select_from(comments)
                .join(threads, and_(threads.c.id == comments.c.thread_id,
                                    threads.c.site_id == site_id))
                .where(comments.c.account_id.is_(None),
                       func.lower(comments.c.author_email) == address)
            ) or 0)
