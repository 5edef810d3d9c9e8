"""import runs, source ids and editors' questions

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rostra.store.tables import UTCDateTime

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("site_created", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    op.create_index(
        "ix_import_runs_lookup", "import_runs", ["site_id", "source", "fingerprint", "status"]
    )
    op.create_table(
        "import_items",
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(300), nullable=False),
        sa.Column("run_id", ID, nullable=False),
        sa.Column("target_id", ID, nullable=False),
        sa.Column("target_key", sa.String(1000), nullable=True),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("parent_source_id", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"],
            name=op.f("fk_import_items_run_id_import_runs"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "source", "kind", "source_id", name=op.f("pk_import_items")
        ),
    )
    op.create_index("ix_import_items_run", "import_items", ["run_id", "kind"])
    op.create_index("ix_import_items_target", "import_items", ["kind", "target_id"])
    op.create_table(
        "questions",
        sa.Column("thread_id", ID, nullable=False),
        sa.Column("question_id", sa.String(64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("anchor", sa.JSON(), nullable=False),
        sa.Column("opened", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["threads.id"],
            name=op.f("fk_questions_thread_id_threads"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thread_id", "question_id", name=op.f("pk_questions")),
    )


def downgrade() -> None:
    op.drop_table("questions")
    op.drop_index("ix_import_items_target", table_name="import_items")
    op.drop_index("ix_import_items_run", table_name="import_items")
    op.drop_table("import_items")
    op.drop_index("ix_import_runs_lookup", table_name="import_runs")
    op.drop_table("import_runs")
