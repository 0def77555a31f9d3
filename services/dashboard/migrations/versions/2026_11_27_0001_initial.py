"""Dashboard schema: per-user facts (one row per projection generation), snapshots, the refresh
queue, the projection's live generation, event tables.

Revision ID: 0001
"""

from alembic import op

from servicekit.migrations import create_event_tables, create_idempotency_table, protect_user_table, role_names

revision = "0001"
down_revision = None

S = "dashboard"


def _system_may(table: str, privileges: str) -> None:
    """The refresh scheduler and the rebuild cross users: the system role sees every row of
    the projection's own tables, through a policy of its own (never through BYPASSRLS)."""
    system = role_names(S, system=True)["system"]
    op.execute(f'CREATE POLICY {table}_projection_jobs ON {S}.{table} TO "{system}" USING (true) WITH CHECK (true)')
    op.execute(f'GRANT {privileges} ON {S}.{table} TO "{system}"')


def upgrade() -> None:
    roles = role_names(S, system=True)
    create_event_tables(S)
    create_idempotency_table(S)

    # Which generation of facts is live, and which one a rebuild is building (both are written
    # by the consumers while a rebuild runs). Not user data: one row.
    op.execute(
        f"""
        CREATE TABLE {S}.projection (
            id smallint PRIMARY KEY CHECK (id = 1),
            live_generation integer NOT NULL,
            building_generation integer,
            switched_at timestamptz
        )"""
    )
    op.execute(f"INSERT INTO {S}.projection (id, live_generation) VALUES (1, 1)")
    op.execute(f'GRANT SELECT ON {S}.projection TO "{roles["worker"]}"')
    op.execute(f'GRANT SELECT, UPDATE ON {S}.projection TO "{roles["system"]}"')

    op.execute(
        f"""
        CREATE TABLE {S}.facts (
            generation integer NOT NULL,
            user_id uuid NOT NULL,
            state jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (generation, user_id)
        )"""
    )
    protect_user_table(S, "facts", app="", worker="SELECT, INSERT, UPDATE")
    _system_may("facts", "SELECT, INSERT, UPDATE, DELETE")

    op.execute(
        f"""
        CREATE TABLE {S}.snapshots (
            user_id uuid PRIMARY KEY,
            version bigint NOT NULL,
            as_of timestamptz NOT NULL,
            content_hash text NOT NULL,
            document jsonb NOT NULL
        )"""
    )
    protect_user_table(S, "snapshots", app="SELECT", worker="SELECT")
    _system_may("snapshots", "SELECT, INSERT, UPDATE")

    # One row per user: `pending` with the most urgent priority asked for and when it is due
    # (bursts coalesce: a user is due again only `coalesce` seconds after their last write).
    op.execute(
        f"""
        CREATE TABLE {S}.refresh_queue (
            user_id uuid PRIMARY KEY,
            pending boolean NOT NULL,
            priority smallint NOT NULL,
            due_at timestamptz NOT NULL,
            requested_at timestamptz NOT NULL,
            rendered_at timestamptz,
            manual_at timestamptz
        )"""
    )
    op.execute(f"CREATE INDEX refresh_queue_due_idx ON {S}.refresh_queue (priority, due_at) WHERE pending")
    protect_user_table(S, "refresh_queue", app="SELECT, INSERT, UPDATE", worker="SELECT, INSERT, UPDATE")
    _system_may("refresh_queue", "SELECT, INSERT, UPDATE")
