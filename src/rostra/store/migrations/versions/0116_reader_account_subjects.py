"""reader_account_subjects: one account per person per site, whichever way they sign in

Revision ID: 0116
Revises: 0115

A reader who signed in by an email link (``email:<address>``) and later with an OpenID
Connect provider asserting the same verified address got a second account (two votes,
a ban on one not holding on the other). The second way in is now kept here, naming the
account the first made; accounts are looked up by their verified address, through
``ix_reader_accounts_email_lower``. Accounts split before stay as they are.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0116"
down_revision = "0115"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reader_account_subjects",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["reader_accounts.id"],
                                name=op.f("fk_reader_account_subjects_account_id_reader_accounts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_reader_account_subjects_site_id_sites"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_account_subjects")),
        sa.UniqueConstraint("site_id", "subject",
                            name=op.f("uq_reader_account_subjects_site_id")),
    )
    op.create_index("ix_reader_account_subjects_account_id", "reader_account_subjects",
                    ["account_id"])
    op.create_index("ix_reader_accounts_email_lower", "reader_accounts",
                    ["site_id", sa.text("lower(email)")])


def downgrade() -> None:
    op.drop_index("ix_reader_accounts_email_lower", table_name="reader_accounts")
    op.drop_table("reader_account_subjects")
