"""The local provider's capability URLs become single-use and short-lived, like Stripe's
hosted sessions: checkouts expire (or are superseded by a newer checkout of the same user),
and the portal link is a session of its own instead of the long-lived customer id.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from servicekit.migrations import protect_user_table

revision = "0005"
down_revision = "0004"

S = "billing"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.local_checkouts ADD COLUMN expires_at timestamptz")
    op.execute(f"UPDATE {S}.local_checkouts SET expires_at = created_at")  # links handed out before: expired
    op.execute(f"ALTER TABLE {S}.local_checkouts ALTER COLUMN expires_at SET NOT NULL")
    op.execute(f"ALTER TABLE {S}.local_checkouts DROP CONSTRAINT local_checkouts_status_check")
    op.execute(
        f"ALTER TABLE {S}.local_checkouts ADD CONSTRAINT local_checkouts_status_check "
        "CHECK (status IN ('open', 'completed', 'expired'))"
    )
    op.execute(
        f"""
        CREATE TABLE {S}.local_portal_sessions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            stripe_customer_id text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz
        )"""
    )
    protect_user_table(S, "local_portal_sessions", app="SELECT, INSERT, UPDATE", worker="")
