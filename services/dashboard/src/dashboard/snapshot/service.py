"""Writing snapshots from the stored facts: used by the refresh scheduler and the rebuild."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_json
from sqlmodel.ext.asyncio.session import AsyncSession

from dashboard.facts import repository as facts_repository
from dashboard.facts.state import UserFacts
from dashboard.snapshot import repository
from dashboard.snapshot.render import UNJUDGED, render


@dataclass(frozen=True)
class Written:
    user_id: uuid.UUID
    version: int
    document: dict[str, Any]
    content_hash: str

    def row(self) -> repository.Row:
        return (self.user_id, self.version, self.content_hash, self.document)


def content_hash(document: dict[str, Any]) -> str:
    """Of a snapshot's JSON document: everything but the version and the clock (`render.content`).
    Its keys come in the schema's field order (`model_dump`), so the JSON is deterministic
    without sorting; pydantic-core writes it ~10 times faster than `json.dumps`."""
    judged = {key: value for key, value in document.items() if key not in UNJUDGED}
    return hashlib.sha256(to_json(judged)).hexdigest()


def next_version(user_id: uuid.UUID, facts: UserFacts, held: tuple[int, str], now: datetime) -> Written | None:
    """The snapshot rendered from `facts` one version above the stored one (`held`: its version
    and content hash), or None when its content is what is stored already."""
    version, old_hash = held
    document = render(facts, version=version + 1, now=now).model_dump(mode="json")
    digest = content_hash(document)
    return None if digest == old_hash else Written(user_id, version + 1, document, digest)


async def write_snapshots(
    db: AsyncSession,
    generation: int,
    users: list[uuid.UUID],
    now: datetime,
    *,
    known: dict[uuid.UUID, UserFacts] | None = None,
) -> list[Written]:
    """Render each user's snapshot from `generation`'s facts (`known`: facts the caller holds,
    current in its transaction, not read again); write those whose content changed, one version
    up. Returns what was written (to announce after commit)."""
    known = known or {}
    missing = [user_id for user_id in users if user_id not in known]
    stored = await facts_repository.load_many(db, generation, missing) if missing else {}
    held = await repository.versions_for_update(db, users)
    written = []
    for user_id in users:
        raw = stored.get(user_id)
        facts = known.get(user_id) or (UserFacts.model_validate(raw) if raw else UserFacts.empty(user_id))
        snapshot = next_version(user_id, facts, held.get(user_id, (0, "")), now)
        if snapshot is not None:
            written.append(snapshot)
    await repository.write_many(db, now, [snapshot.row() for snapshot in written])
    return written
