"""Files a crash left behind (a `.part` of an upload cut by a killed API process, complete files
whose rows never committed) are removed by the worker's sweep once old enough; files that a row
names, and anything recent (an upload still going), stay."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from missions.files.storage import LocalDiskStorage
from missions.files.sweeper import sweep_orphans
from servicekit.db import create_engine

MISSION = "research-local-water-quality"
HOUR = 3600.0


@pytest.fixture
async def worker_engine(settings: Any) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.worker_dsn, pool_size=1)
    yield engine
    await engine.dispose()


def _leave(root: Path, user_id: uuid.UUID, suffix: str = "", *, age: float) -> Path:
    path = root / str(user_id) / str(uuid.uuid4()) / f"{uuid.uuid4()}{suffix}"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"left behind by a crash")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


async def test_the_sweep_removes_old_files_no_row_names_and_keeps_the_rest(
    student: Callable[..., Any], samples: SimpleNamespace, files_dir: Path, worker_engine: AsyncEngine
) -> None:
    ada = student()
    enrollment = await ada.enrolled(MISSION)
    submitted = await ada.submit(enrollment["id"], "My work.", [("p.png", samples.png(), "image/png")])
    assert submitted.status_code == 202, submitted.text
    [kept] = [p for p in (files_dir / str(ada.id)).rglob("*") if p.is_file()]
    os.utime(kept, (time.time() - 2 * HOUR, time.time() - 2 * HOUR))  # old, but its row names it

    cut_upload = _leave(files_dir, ada.id, ".part", age=2 * HOUR)
    never_committed = _leave(files_dir, ada.id, age=2 * HOUR)
    someone_elses = _leave(files_dir, uuid.uuid4(), age=2 * HOUR)
    in_flight = _leave(files_dir, ada.id, ".part", age=5)

    removed = await sweep_orphans(worker_engine, LocalDiskStorage(files_dir), older_than=HOUR)

    gone = [cut_upload, never_committed, someone_elses]
    assert sorted(removed) == sorted(str(p.relative_to(files_dir)).removesuffix(".part") for p in gone)
    assert not any(p.exists() or p.parent.exists() for p in gone)  # folders too
    assert kept.exists()
    assert in_flight.exists()
    download = await ada.client.get(submitted.json()["files"][0]["url"], headers=ada.headers)
    assert download.content == samples.png()
