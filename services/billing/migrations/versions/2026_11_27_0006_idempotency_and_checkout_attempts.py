"""Idempotency-Key answers kept by the kit (servicekit.idempotency), and checkout attempts:
a number taken when a checkout passes its checks, so that of two checkouts racing at the
provider the later attempt is the one left payable (no lock is held across the provider call).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from servicekit.migrations import create_idempotency_table, role_names

revision = "0006"
down_revision = "0005"

S = "billing"


def upgrade() -> None:
    roles = role_names(S)
    create_idempotency_table(S)
    op.execute(f"CREATE SEQUENCE {S}.checkout_attempts AS bigint")
    op.execute(f'GRANT USAGE ON SEQUENCE {S}.checkout_attempts TO "{roles["app"]}"')
    # Checkouts from before have no attempt: they count as older than any new one.
    op.execute(f"ALTER TABLE {S}.local_checkouts ADD COLUMN attempt bigint")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {S}.local_checkouts DROP COLUMN attempt")
    op.execute(f"DROP SEQUENCE {S}.checkout_attempts")
    op.execute(f"DROP TABLE {S}.idempotency_keys")
