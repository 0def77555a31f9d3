"""The goals and habits coaching announced, for recommendations.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from servicekit.migrations import protect_user_table

revision = "0002"
down_revision = "0001"

S = "missions"


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE {S}.coaching_facts (
            user_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('goal', 'habit')),
            ref_id uuid NOT NULL,
            title text NOT NULL,
            active boolean NOT NULL,
            changed_at timestamptz NOT NULL,
            PRIMARY KEY (user_id, kind, ref_id)
        )"""
    )
    protect_user_table(S, "coaching_facts", app="SELECT", worker="SELECT, INSERT, UPDATE")
