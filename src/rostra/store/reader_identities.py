"""Finding a site's reader account by a way of signing in: its own subject, another
subject tied to it (``reader_account_subjects``), or the address it proved."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, Row, func, select

from rostra.store.account_tables import reader_account_subjects as subjects
from rostra.store.account_tables import reader_accounts

_ACCOUNT: tuple[Column[Any], ...] = (reader_accounts.c.id, reader_accounts.c.subject, reader_accounts.c.name,
            reader_accounts.c.email, reader_accounts.c.website, reader_accounts.c.sso_staff)


def own_account(conn: Connection, site_id: str, subject: str) -> Row[Any] | None:
    """The account made by signing in as ``subject``."""
    return conn.execute(select(*_ACCOUNT).where(
        reader_accounts.c.site_id == site_id, reader_accounts.c.subject == subject)).first()


def tied_account(conn: Connection, site_id: str, subject: str) -> Row[Any] | None:
    """The account another way of signing in made, which ``subject`` was tied to."""
    return conn.execute(select(*_ACCOUNT).join(
        subjects, subjects.c.account_id == reader_accounts.c.id).where(
        subjects.c.site_id == site_id, subjects.c.subject == subject)).first()


def account_with_verified_email(conn: Connection, site_id: str,
                                email: str) -> Row[Any] | None:
    """The site's oldest account whose address Rostra saw its owner prove (an email
    link, a provider's ``email_verified``), compared in lower case."""
    return conn.execute(select(*_ACCOUNT).where(
        reader_accounts.c.site_id == site_id,
        func.lower(reader_accounts.c.email) == email.strip().lower(),
        reader_accounts.c.email_verified.is_(True),
    ).order_by(reader_accounts.c.id).limit(1)).first()


def account_id_of(conn: Connection, site_id: str, subject: str) -> int | None:
    """The id of the account ``subject`` signs in to, its own or the one it is tied to."""
    found = own_account(conn, site_id, subject) or tied_account(conn, site_id, subject)
    return None if found is None else int(found.id)
