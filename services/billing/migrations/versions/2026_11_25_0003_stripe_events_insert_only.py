"""The API role only inserts Stripe events: it never reads other users' payloads. ON CONFLICT
needs to see the conflict column, so it keeps SELECT on `id` alone.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute('REVOKE SELECT ON billing.stripe_events FROM "billing_app"')
    op.execute('GRANT SELECT (id) ON billing.stripe_events TO "billing_app"')
