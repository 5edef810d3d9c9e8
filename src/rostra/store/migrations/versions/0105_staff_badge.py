"""reader_accounts.staff_user_id and sso_staff: what makes a comment staff-written

Revision ID: 0105
Revises: 0104

A reader account is the site's staff when it is tied to a staff user who has a role on
the site (the link is made by the site's owner or an administrator), or when the site's
latest single sign-on payload for it carried ``"staff": true``.

On SQLite the foreign key makes Alembic rebuild reader_accounts. Until migrations ran
with foreign keys off (``rostra.store.migrate.upgrade``), dropping the old table
deleted every reader's sessions, account-bound sign-in links and passkeys by ON DELETE
CASCADE; databases upgraded then lost them (those readers signed in again).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0105"
down_revision = "0104"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("reader_accounts") as batch:
        batch.add_column(sa.Column("staff_user_id", ID, nullable=True))
        batch.add_column(sa.Column("sso_staff", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_foreign_key(op.f("fk_reader_accounts_staff_user_id_staff_users"),
                                 "staff_users", ["staff_user_id"], ["id"],
                                 ondelete="SET NULL")
        batch.create_index("ix_reader_accounts_staff_user_id", ["staff_user_id"])


def downgrade() -> None:
    with op.batch_alter_table("reader_accounts") as batch:
        batch.drop_index("ix_reader_accounts_staff_user_id")
        batch.drop_constraint(op.f("fk_reader_accounts_staff_user_id_staff_users"),
                              type_="foreignkey")
        batch.drop_column("sso_staff")
        batch.drop_column("staff_user_id")
