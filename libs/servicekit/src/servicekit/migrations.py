"""Alembic per schema, the three roles of a service, and RLS helpers for migration files.

Roles for service `s`:
- `s_owner`  (NOLOGIN) owns the schema and every table; migrations run as it.
- `s_app`    the API: RLS applies (not owner, no BYPASSRLS); may only INSERT into the outbox.
- `s_worker` consumers and the relay: RLS applies to user tables; relays and consumes.
- `s_system` (only where a service declares it) system jobs that must cross users; sees only
  what an explicit `TO s_system` policy shows it, never more.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from alembic import command, context, op
from alembic.config import Config
from psycopg import sql
from sqlalchemy import create_engine, text

from servicekit.db import libpq_url, sqlalchemy_url

USER_POLICY = "user_id = nullif(current_setting('app.user_id', true), '')::uuid"


def role_names(schema: str, *, system: bool = False) -> dict[str, str]:
    roles = {"owner": f"{schema}_owner", "app": f"{schema}_app", "worker": f"{schema}_worker"}
    if system:
        roles["system"] = f"{schema}_system"
    return roles


# The settings each login role connects with (`python -m <svc> migrate` reads them from the environment).
ROLE_URL_VARIABLES = {"app": "DATABASE_URL", "worker": "WORKER_DATABASE_URL", "system": "SYSTEM_DATABASE_URL"}


def role_passwords(schema: str, env: Mapping[str, str], *, system: bool = False) -> dict[str, str]:
    """The password of each login role, taken from the URL its process connects with: one secret
    per role, written once (a compose env file, a Kubernetes Secret), never copied by hand. A URL
    naming another role, or none, sets nothing (a trust-auth local stack has no passwords)."""
    roles = role_names(schema, system=system)
    found = {}
    for kind, variable in ROLE_URL_VARIABLES.items():
        if kind not in roles or not env.get(variable):
            continue
        parts = urlsplit(env[variable])
        if parts.password and unquote(parts.username or "") == roles[kind]:
            found[kind] = unquote(parts.password)
    return found


@contextmanager
def schema_lock(admin_dsn: str, schema: str) -> Iterator[None]:
    """One migration or seed of `schema` at a time: every new pod runs them as its init step, so
    replicas starting together must queue rather than race on CREATE ROLE or Alembic's version row."""
    key = zlib.crc32(f"journey.migrate.{schema}".encode())
    with psycopg.connect(libpq_url(admin_dsn), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def ensure_schema_and_roles(
    admin_dsn: str, schema: str, *, system_role: bool = False, passwords: Mapping[str, str] | None = None
) -> None:
    """Idempotently create the schema, its owner and the login roles (none with BYPASSRLS);
    `passwords` (by role kind) are set on every run, so rotating one is a redeploy."""
    roles = role_names(schema, system=system_role)
    with psycopg.connect(libpq_url(admin_dsn), autocommit=True) as conn:
        for kind, role in roles.items():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            login = sql.SQL("NOLOGIN" if kind == "owner" else "LOGIN")
            if not exists:
                conn.execute(
                    sql.SQL("CREATE ROLE {} {} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(
                        sql.Identifier(role), login
                    )
                )
            if kind != "owner" and (passwords or {}).get(kind):
                # A utility statement takes no bound parameters: the literal is quoted client-side.
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal((passwords or {})[kind])
                    )
                )
        conn.execute(sql.SQL("GRANT {} TO current_user").format(sql.Identifier(roles["owner"])))
        conn.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                sql.Identifier(schema), sql.Identifier(roles["owner"])
            )
        )
        for kind in roles.keys() - {"owner"}:
            conn.execute(
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(roles[kind]))
            )
            # The service's own tables resolve unqualified for its roles, so kit code (tier cache,
            # AI budget, outbox) never has the schema name threaded through it.
            conn.execute(
                sql.SQL("ALTER ROLE {} SET search_path TO {}").format(
                    sql.Identifier(roles[kind]), sql.Identifier(schema)
                )
            )


def upgrade(
    admin_dsn: str,
    schema: str,
    migrations_dir: Path,
    *,
    system_role: bool = False,
    passwords: Mapping[str, str] | None = None,
) -> None:
    """Bring `schema` to head with the service's own Alembic history (one runner at a time)."""
    with schema_lock(admin_dsn, schema):
        ensure_schema_and_roles(admin_dsn, schema, system_role=system_role, passwords=passwords)
        config = Config()
        config.set_main_option("script_location", str(migrations_dir))
        config.attributes["dsn"] = admin_dsn
        config.attributes["schema"] = schema
        command.upgrade(config, "head")


def run_env() -> None:
    """Body of every service's `migrations/env.py`: online migration as the schema owner."""
    config = context.config
    schema: str = config.attributes["schema"]
    engine = create_engine(sqlalchemy_url(config.attributes["dsn"]))
    with engine.connect() as connection:
        connection.execute(text(f'SET ROLE "{role_names(schema)["owner"]}"'))
        connection.execute(text(f'SET search_path TO "{schema}"'))
        connection.commit()
        context.configure(connection=connection, version_table_schema=schema, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()


# --- helpers called from migration files -------------------------------------------------


def _grant(schema: str, table: str, privileges: str, role: str) -> None:
    op.execute(f'GRANT {privileges} ON "{schema}"."{table}" TO "{role}"')


def user_table_ddl(
    schema: str,
    table: str,
    *,
    app: str = "SELECT, INSERT, UPDATE, DELETE",
    worker: str = "SELECT, INSERT, UPDATE, DELETE",
) -> list[str]:
    """ENABLE + FORCE RLS with the deny-by-default user policy, then the roles' grants."""
    roles = role_names(schema)
    qualified = f'"{schema}"."{table}"'
    statements = [
        f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY {table}_owner_only ON {qualified} USING ({USER_POLICY}) WITH CHECK ({USER_POLICY})",
    ]
    for privileges, role in ((app, roles["app"]), (worker, roles["worker"])):
        if privileges:
            statements.append(f'GRANT {privileges} ON {qualified} TO "{role}"')
    return statements


def protect_user_table(
    schema: str,
    table: str,
    *,
    app: str = "SELECT, INSERT, UPDATE, DELETE",
    worker: str = "SELECT, INSERT, UPDATE, DELETE",
) -> None:
    """Migration helper: `user_table_ddl` applied."""
    for statement in user_table_ddl(schema, table, app=app, worker=worker):
        op.execute(statement)


def idempotency_table_ddl(schema: str) -> list[str]:
    """The user-owned table behind `servicekit.idempotency` (answers kept per user, route, key)."""
    create = f"""
        CREATE TABLE "{schema}".idempotency_keys (
            user_id uuid NOT NULL,
            route text NOT NULL,
            key text NOT NULL,
            request_hash text NOT NULL,
            status integer NOT NULL,
            body jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, route, key)
        )"""
    return [create, *user_table_ddl(schema, "idempotency_keys", worker="SELECT, DELETE")]


def create_idempotency_table(schema: str) -> None:
    """Migration helper: `idempotency_table_ddl` applied."""
    for statement in idempotency_table_ddl(schema):
        op.execute(statement)


def grant_reference_table(schema: str, table: str) -> None:
    """Shared, non-user data (e.g. a question bank): read-only for both roles."""
    roles = role_names(schema)
    _grant(schema, table, "SELECT", roles["app"])
    _grant(schema, table, "SELECT", roles["worker"])


def event_tables_ddl(schema: str) -> list[str]:
    """Outbox, inbox, dead letters and the AI budget counter, with their grants."""
    roles = role_names(schema)
    statements: list[str] = []
    statements.append(
        f"""
        CREATE TABLE "{schema}".outbox (
            id uuid PRIMARY KEY,
            subject text NOT NULL,
            payload jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            published_at timestamptz
        )"""
    )
    statements.append(
        f'CREATE INDEX outbox_unpublished_idx ON "{schema}".outbox (created_at) WHERE published_at IS NULL'
    )
    statements.append(
        f"""
        CREATE TABLE "{schema}".inbox (
            consumer text NOT NULL,
            event_id uuid NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id)
        )"""
    )
    statements.append(
        f"""
        CREATE TABLE "{schema}".dead_letters (
            id bigserial PRIMARY KEY,
            consumer text NOT NULL,
            event_id uuid,
            subject text NOT NULL,
            payload text NOT NULL,
            error text NOT NULL,
            deliveries integer NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    statements.append(
        f"""
        CREATE TABLE "{schema}".ai_usage (
            user_id uuid NOT NULL,
            day date NOT NULL,
            calls integer NOT NULL,
            PRIMARY KEY (user_id, day)
        )"""
    )
    for table, privileges, role in (
        ("outbox", "INSERT", roles["app"]),
        ("outbox", "SELECT, UPDATE, INSERT, DELETE", roles["worker"]),
        ("inbox", "SELECT, INSERT", roles["worker"]),
        ("dead_letters", "SELECT, INSERT", roles["worker"]),
    ):
        statements.append(f'GRANT {privileges} ON "{schema}"."{table}" TO "{role}"')
    statements.append(f'GRANT USAGE ON SEQUENCE "{schema}".dead_letters_id_seq TO "{roles["worker"]}"')
    statements += user_table_ddl(schema, "ai_usage", app="", worker="SELECT, INSERT, UPDATE")
    return statements


def create_event_tables(schema: str) -> None:
    """Migration helper: `event_tables_ddl` applied."""
    for statement in event_tables_ddl(schema):
        op.execute(statement)
