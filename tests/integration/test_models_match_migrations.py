"""The SQLModel models and the migrations describe the same tables: every mapped table's
columns, types, nullability and keys match what the migrations built. Indexes, constraints,
foreign keys and policies live in the migrations alone (RLS and partial indexes have no model
form), so those differences are not drift."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import BigInteger, Integer, String, Text, create_engine
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from journey_local.services import SERVICES, ServiceSpec
from servicekit.db import sqlalchemy_url

MIGRATION_ONLY = {"add_index", "remove_index", "add_constraint", "remove_constraint", "add_fk", "remove_fk"}


def _compare_type(_ctx: Any, _inspected: Any, _mapped: Any, inspected_type: Any, mapped_type: Any) -> bool | None:
    """False (same) for SQLModel's unbounded strings over `text`; None leaves it to alembic."""
    if isinstance(mapped_type, AutoString | String) and mapped_type.length is None and isinstance(inspected_type, Text):
        return False
    if type(mapped_type) is Integer and isinstance(inspected_type, BigInteger):
        return True  # a Python int mapped as int4 over a bigint column would overflow: real drift
    return None


def _drift(admin_dsn: str, definition: ServiceSpec) -> list[Any]:
    definition.app(definition.settings())  # importing its routers imports its models
    mapped = {t.name for t in SQLModel.metadata.tables.values() if t.schema == definition.schema}
    assert mapped, f"{definition.name} maps no table"

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if type_ == "table":
            return bool(obj.schema == definition.schema and name in mapped)
        return True

    engine = create_engine(sqlalchemy_url(admin_dsn))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "include_schemas": True,
                    "include_name": lambda name, type_, _parent: type_ != "schema" or name == definition.schema,
                    "include_object": include_object,
                    "compare_type": _compare_type,
                },
            )
            diffs = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    flat = [d for group in diffs for d in (group if isinstance(group, list) else [group])]
    return [d for d in flat if d[0] not in MIGRATION_ONLY]


@pytest.mark.parametrize("definition", SERVICES, ids=lambda d: d.name)
def test_models_and_migrations_agree(infra: Any, definition: ServiceSpec) -> None:
    assert _drift(infra.admin_dsn, definition) == []
