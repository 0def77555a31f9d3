"""Usage counters kept from other services' events, for GET /subscription.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from servicekit.migrations import protect_user_table

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE billing.usage_counters (
            user_id uuid NOT NULL,
            limit_name text NOT NULL,
            period_start date NOT NULL,
            used integer NOT NULL,
            PRIMARY KEY (user_id, limit_name, period_start)
        )"""
    )
    protect_user_table("billing", "usage_counters", app="SELECT", worker="SELECT, INSERT, UPDATE")
