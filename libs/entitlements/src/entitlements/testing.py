"""Test support: put a user on a tier as a `tier.changed` event would, in one service's cache.

# a service's tests/conftest.py
set_tier = set_tier_fixture("coaching")
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql


def set_tier_fixture(schema: str) -> Any:
    """A session fixture `set_tier(user_id, tier)` writing `<schema>.tier_cache` as the admin."""

    @pytest.fixture(scope="session", name="set_tier")
    def set_tier(infra: Any) -> Callable[[uuid.UUID, str], None]:
        statement = sql.SQL(
            "INSERT INTO {} (user_id, tier, changed_at, event_id) VALUES (%s, %s, now(), gen_random_uuid()) "
            "ON CONFLICT (user_id) DO UPDATE SET tier = excluded.tier, changed_at = excluded.changed_at"
        ).format(sql.Identifier(schema, "tier_cache"))

        def _set(user_id: uuid.UUID, tier: str) -> None:
            with psycopg.connect(infra.admin_dsn, autocommit=True) as conn:
                conn.execute(statement, (user_id, tier))

        return _set

    return set_tier
