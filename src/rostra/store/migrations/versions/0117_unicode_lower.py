"""SQLite: indexes on lower(...) rebuilt with a lower() that folds every letter

Revision ID: 0117
Revises: 0116

SQLite's own lower() folds ASCII letters only, so an address typed ÉD@BÜCHER.example
was not found as éd@bücher.example by a claim, an export or an erasure. Rostra's SQLite
connections now use Python's ``str.lower`` for ``lower()`` (``rostra.store.db``); the
entries already in the expression indexes were made with SQLite's, and are made again.
PostgreSQL's lower() already folds every letter: nothing changes there.
"""

from __future__ import annotations

from alembic import op

revision = "0117"
down_revision = "0116"
branch_labels = None
depends_on = None

_INDEXES = ("ix_comments_author_email_lower", "ix_reader_accounts_email_lower")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for index in _INDEXES:
            op.execute(f"REINDEX {index}")


def downgrade() -> None:
    pass  # entries folded with Python's lower() are as good to the version before
