"""The worker's consumers write a user's snapshot themselves (the leading edge of a burst, in
the transaction that folds the event), as that user under RLS: the worker role may insert and
update snapshots (the owner policy keeps it to the event's user).

Revision ID: 0002
"""

from alembic import op

from servicekit.migrations import role_names

revision = "0002"
down_revision = "0001"

S = "dashboard"


def upgrade() -> None:
    worker = role_names(S)["worker"]
    op.execute(f'GRANT INSERT, UPDATE ON {S}.snapshots TO "{worker}"')
