"""Load the question bank (idempotent: an existing version is left as it is)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from profiler.questions.bank import BANK_VERSION, QUESTIONS

COLUMNS = ("options", "max_choices", "scale_min", "scale_max", "scale_labels", "max_length")


def seed_questions(conn: psycopg.Connection[Any]) -> int:
    """Runs as the schema owner (the kit's seed step sets the role)."""
    for position, q in enumerate(QUESTIONS, start=1):
        extra = [json.dumps(q[c]) if c in ("options", "scale_labels") and c in q else q.get(c) for c in COLUMNS]
        conn.execute(
            "INSERT INTO profiler.questions (bank_version, id, position, category, kind, prompt, required, "
            "options, max_choices, scale_min, scale_max, scale_labels, max_length) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (BANK_VERSION, q["id"], position, q["category"], q["kind"], q["prompt"], q["required"], *extra),
        )
    return len(QUESTIONS)
