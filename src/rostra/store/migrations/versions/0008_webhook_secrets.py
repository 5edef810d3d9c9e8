"""webhook secrets in the Standard Webhooks form (whsec_ + base64 of the key)

Revision ID: 0008
Revises: 0007

Before, a secret was any string and its HMAC key was its UTF-8 bytes. Each one is now
stored as ``whsec_`` + base64 of those bytes: the same key, so receivers keep working,
in the form the Standard Webhooks libraries take. The column grows to text, to hold the
base64 of any old secret (on SQLite, which does not enforce lengths, it is left as it is:
changing a column's type there means copying the table, and the outbox refers to it).
"""

from __future__ import annotations

import base64
import binascii

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PREFIX = "whsec_"
hooks = sa.table("notify_webhooks", sa.column("id", sa.Integer), sa.column("secret", sa.Text),
                 sa.column("active", sa.Boolean))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column("notify_webhooks", "secret", type_=sa.Text(),
                        existing_type=sa.String(200), existing_nullable=False)
    for hook_id, secret in bind.execute(sa.select(hooks.c.id, hooks.c.secret)).all():
        stored = PREFIX + base64.b64encode(secret.encode()).decode()
        bind.execute(hooks.update().where(hooks.c.id == hook_id).values(secret=stored))


def downgrade() -> None:
    # Keys that are text go back to being the secret; a random key made since (bytes
    # that are no text) has no old form, so its webhook is switched off instead.
    bind = op.get_bind()
    for hook_id, secret in bind.execute(sa.select(hooks.c.id, hooks.c.secret)).all():
        try:
            plain = base64.b64decode(secret.removeprefix(PREFIX), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            plain = ""
        values: dict[str, object]
        if plain and len(plain) <= 200:
            values = {"secret": plain}
        else:
            values = {"secret": secret[:200], "active": False}
        bind.execute(hooks.update().where(hooks.c.id == hook_id).values(**values))
    if bind.dialect.name != "sqlite":
        op.alter_column("notify_webhooks", "secret", type_=sa.String(200),
                        existing_type=sa.Text(), existing_nullable=False)
