"""Load the catalogue (runs as the schema's owner; idempotent): insert each mission version not
yet stored, retire versions that a newer one replaced, retire missions no longer listed."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from missions.catalog.content import CATALOG, MissionSpec

_INSERT = """
    INSERT INTO missions (id, version, title, brief, steps, difficulty, estimated_minutes, skill, tags,
                          traits, deliverables, min_words, rubric)
    VALUES (%(id)s, %(version)s, %(title)s, %(brief)s, %(steps)s, %(difficulty)s, %(estimated_minutes)s,
            %(skill)s, %(tags)s, %(traits)s, %(deliverables)s, %(min_words)s, %(rubric)s)
    ON CONFLICT (id, version) DO NOTHING
"""
_RETIRE_OLDER = "UPDATE missions SET retired_at = now() WHERE id = %s AND version < %s AND retired_at IS NULL"
_RETIRE_UNLISTED = "UPDATE missions SET retired_at = now() WHERE retired_at IS NULL AND NOT (id = ANY(%s))"


def _row(spec: MissionSpec) -> dict[str, Any]:
    row = spec.model_dump()
    for name in ("steps", "tags", "traits", "deliverables", "rubric"):
        row[name] = json.dumps(row[name])
    return row


def seed_catalog(conn: psycopg.Connection[Any], catalog: tuple[MissionSpec, ...] = CATALOG) -> str:
    conn.execute("SET search_path TO missions")
    added = 0
    for spec in catalog:
        conn.execute(_RETIRE_OLDER, (spec.id, spec.version))
        added += conn.execute(_INSERT, _row(spec)).rowcount
    retired = conn.execute(_RETIRE_UNLISTED, ([spec.id for spec in catalog],)).rowcount
    conn.commit()
    return f"catalogue: {len(catalog)} missions, {added} versions added, {retired} retired"
