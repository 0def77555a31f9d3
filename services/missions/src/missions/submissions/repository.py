"""Submission and file queries, under the caller's RLS."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missions.models import Submission, SubmissionFile
from servicekit.repository import OwnedRepository

submissions = OwnedRepository(Submission, label="submission")
files = OwnedRepository(SubmissionFile, label="file")


async def pending_count(db: AsyncSession, enrollment_id: uuid.UUID) -> int:
    query = (
        select(func.count())
        .select_from(Submission)
        .where(Submission.enrollment_id == enrollment_id, Submission.status == "pending")
    )
    return int((await db.exec(query)).one())


async def files_of(db: AsyncSession, submission_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[SubmissionFile]]:
    if not submission_ids:
        return {}
    query = (
        select(SubmissionFile)
        .where(col(SubmissionFile.submission_id).in_(submission_ids))
        .order_by(col(SubmissionFile.position))
    )
    found: dict[uuid.UUID, list[SubmissionFile]] = {i: [] for i in submission_ids}
    for row in (await db.exec(query)).all():
        found[row.submission_id].append(row)
    return found


async def file_of_submission(db: AsyncSession, submission_id: uuid.UUID, file_id: uuid.UUID) -> SubmissionFile | None:
    query = select(SubmissionFile).where(SubmissionFile.id == file_id, SubmissionFile.submission_id == submission_id)
    return (await db.exec(query)).first()


async def file_with_key_exists(db: AsyncSession, storage_key: str) -> bool:
    query = select(func.count()).select_from(SubmissionFile).where(SubmissionFile.storage_key == storage_key)
    return int((await db.exec(query)).one()) > 0


async def add_files(db: AsyncSession, rows: list[SubmissionFile]) -> None:
    db.add_all(rows)
    await db.flush()


async def scored_of_user(db: AsyncSession) -> Sequence[Submission]:
    return (await db.exec(select(Submission).where(Submission.status == "scored"))).all()
