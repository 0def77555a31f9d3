"""How the worker tells every API process about a new snapshot version: a NATS core message on
the user's own subject (at most once: a process that misses one still serves the newest from
the table, and the next version carries everything)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic_core import to_json

SNAPSHOT_SUBJECT_PREFIX = "dashboard.snapshot"  # outside `journey.>`: no stream keeps these
LAG_SUBJECT = "dashboard.lag"


def snapshot_subject(user_id: uuid.UUID) -> str:
    return f"{SNAPSHOT_SUBJECT_PREFIX}.{user_id}"


def encode(version: int, document: dict[str, Any]) -> bytes:
    return to_json({"version": version, "snapshot": document})  # compact UTF-8 JSON, as json.dumps' ~8x faster


def decode(data: bytes) -> tuple[int, dict[str, Any]]:
    message = json.loads(data)
    return int(message["version"]), dict(message["snapshot"])
