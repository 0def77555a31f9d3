"""Sessions remember the Idempotency-Key their completion was made with, so a retried
complete is answered like the first one instead of 409.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("ALTER TABLE profiler.sessions ADD COLUMN completion_key text")
