"""Idempotency-Key answers kept by the kit (servicekit.idempotency) instead of key columns on
the sessions table.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from servicekit.migrations import create_idempotency_table

revision = "0005"
down_revision = "0004"

S = "profiler"


def upgrade() -> None:
    create_idempotency_table(S)
    op.execute(f"DROP INDEX IF EXISTS {S}.sessions_idempotency_idx")
    op.execute(f"ALTER TABLE {S}.sessions DROP COLUMN idempotency_key, DROP COLUMN completion_key")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {S}.sessions ADD COLUMN idempotency_key text, ADD COLUMN completion_key text")
    op.execute(f"CREATE UNIQUE INDEX sessions_idempotency_idx ON {S}.sessions (user_id, idempotency_key)")
    op.execute(f"DROP TABLE {S}.idempotency_keys")
