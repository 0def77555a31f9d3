"""What the review job reads and writes, under the event user's RLS (worker role)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missions.models import Submission, SubmissionFile


async def submission(db: AsyncSession, submission_id: uuid.UUID, *, for_update: bool = False) -> Submission | None:
    query = select(Submission).where(Submission.id == submission_id)
    if for_update:
        query = query.with_for_update()
    return (await db.exec(query)).first()


async def files(db: AsyncSession, submission_id: uuid.UUID) -> Sequence[SubmissionFile]:
    query = select(SubmissionFile).where(SubmissionFile.submission_id == submission_id)
    return (await db.exec(query.order_by(col(SubmissionFile.position)))).all()


async def update_submission(db: AsyncSession, row: Submission, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, value)
    db.add(row)
    await db.flush()
