"""Alembic environment: runs on the connection Rostra hands it (see store/migrate.py)."""

from __future__ import annotations

from alembic import context

from rostra.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - Rostra always passes its connection
    raise RuntimeError("run migrations with `rostra db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
