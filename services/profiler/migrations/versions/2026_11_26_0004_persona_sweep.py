"""Personas the stranded-persona sweeper requested again, and what it may see to find them.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

from servicekit.migrations import role_names

revision = "0004"
down_revision = "0003"

S = "profiler"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.personas ADD COLUMN requested_again_at timestamptz")
    op.execute(f"CREATE INDEX personas_pending_idx ON {S}.personas (created_at) WHERE status = 'pending'")
    # The sweeper runs as the worker with no user set and must find pending personas of every
    # user (id, owner, age: a pending row has no content yet). Inside a user's transaction this
    # policy does not apply, so handlers still see only that user's rows.
    op.execute(
        f'CREATE POLICY personas_stranded_scan ON {S}.personas FOR SELECT TO "{role_names(S)["worker"]}" '
        "USING (status = 'pending' AND current_setting('app.user_id', true) = '')"
    )
