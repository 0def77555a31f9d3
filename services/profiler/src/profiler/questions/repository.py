from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from profiler.models import Question


async def list_questions(session: AsyncSession, bank_version: int) -> list[Question]:
    result = await session.exec(
        select(Question).where(Question.bank_version == bank_version).order_by(col(Question.position))
    )
    return list(result.all())
