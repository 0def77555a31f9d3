"""Orphan files: what a crash leaves behind. An API process killed mid-upload leaves a `.part`;
one killed between storing the files and committing their rows leaves complete files that no
row names. A request that fails in any other way removes its own files (submissions.upload);
this sweep, in the worker, removes the rest: every stored key last written more than
`files_sweep_after_seconds` ago that no `submission_files` row names. The row is looked up as
the key's own user (the key starts with the user id), so the sweep needs no role that crosses
users."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from missions.files.deps import storage_for
from missions.files.storage import ObjectStorage
from missions.settings import MissionsSettings
from missions.submissions import repository
from servicekit.db import create_engine, user_transaction
from servicekit.logging import get_logger

log = get_logger(__name__)


async def sweep_orphans(engine: AsyncEngine, storage: ObjectStorage, *, older_than: float) -> list[str]:
    """Remove stored keys older than `older_than` seconds that no file row names; the keys removed."""
    removed = []
    for key in await storage.keys_older_than(older_than):
        user_id = uuid.UUID(key.split("/", 1)[0])
        async with user_transaction(engine, user_id) as db:
            known = await repository.file_with_key_exists(db, key)
        if not known:
            await storage.delete(key)
            log.warning("orphan_file_removed", key=key, older_than_seconds=older_than)
            removed.append(key)
    return removed


async def run_sweeper(settings: MissionsSettings) -> None:
    """Background job of the missions worker: one sweep every `files_sweep_interval_seconds`."""
    engine = create_engine(settings.worker_dsn, pool_size=1)
    storage = storage_for(settings)
    try:
        while True:
            await asyncio.sleep(settings.files_sweep_interval_seconds)
            try:
                await sweep_orphans(engine, storage, older_than=settings.files_sweep_after_seconds)
            except Exception as exc:  # the database away: the next round tries again
                log.warning("files_sweep_failed", error=repr(exc))
    finally:
        await engine.dispose()
