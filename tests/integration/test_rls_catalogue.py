"""Walks the catalogue of every service schema: user-owned tables must ENABLE + FORCE RLS
with a policy, and no login role may own a table or bypass RLS."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from journey_local.services import SERVICES
from servicekit.migrations import role_names

SCHEMAS = [spec.name for spec in SERVICES]


def _rows(infra: Any, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(infra.admin_dsn) as conn:
        return conn.execute(query, params).fetchall()


def test_every_service_schema_exists(infra: Any) -> None:
    found = {r[0] for r in _rows(infra, "SELECT nspname FROM pg_namespace")}
    assert set(SCHEMAS) <= found


@pytest.mark.parametrize("schema", SCHEMAS)
def test_user_owned_tables_force_rls_with_a_policy(infra: Any, schema: str) -> None:
    tables = _rows(
        infra,
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
               (SELECT string_agg(pg_get_expr(p.polqual, p.polrelid), ' ') FROM pg_policy p WHERE p.polrelid = c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
          AND EXISTS (SELECT 1 FROM pg_attribute a
                      WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped)
        """,
        schema,
    )
    assert tables, f"{schema} has no user-owned tables"
    for name, enabled, forced, policies, expression in tables:
        assert enabled, f"{schema}.{name} does not ENABLE row level security"
        assert forced, f"{schema}.{name} does not FORCE row level security"
        assert policies >= 1, f"{schema}.{name} has no policy"
        assert "current_setting('app.user_id'" in expression
        assert "IS NULL" not in expression.upper(), f"{schema}.{name} policy lets an unset user through"


@pytest.mark.parametrize("schema", SCHEMAS)
def test_login_roles_neither_own_tables_nor_bypass_rls(infra: Any, schema: str) -> None:
    roles = role_names(schema, system=True)
    existing = {r[0] for r in _rows(infra, "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", f"{schema}\\_%")}
    assert {roles["app"], roles["worker"]} <= existing
    for kind in ("app", "worker", "system"):
        role = roles[kind]
        if role not in existing:
            continue
        flags = _rows(infra, "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s", role)
        assert flags == [(False, False, True)], f"{role}: {flags}"
        owned = _rows(
            infra,
            "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s",
            role,
        )
        assert owned == [], f"{role} owns {owned}"
        member_of_owner = _rows(infra, "SELECT pg_has_role(%s, %s, 'MEMBER')", role, roles["owner"])
        assert member_of_owner == [(False,)], f"{role} can act as the owner"


@pytest.mark.parametrize("schema", SCHEMAS)
def test_api_role_may_only_insert_into_the_outbox(infra: Any, schema: str) -> None:
    app = role_names(schema)["app"]
    privileges = {
        p: _rows(infra, "SELECT has_table_privilege(%s, %s, %s)", app, f"{schema}.outbox", p)[0][0]
        for p in ("INSERT", "SELECT", "UPDATE", "DELETE")
    }
    assert privileges == {"INSERT": True, "SELECT": False, "UPDATE": False, "DELETE": False}
