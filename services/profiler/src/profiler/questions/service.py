"""The question bank is reference data: read once per process and version."""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from profiler.models import Question
from profiler.questions import repository
from profiler.questions.bank import BANK_VERSION
from servicekit.direct import DirectTransaction, Statement
from servicekit.errors import NotFound, brief

_cache: dict[int, list[Question]] = {}


async def questions_for(session: AsyncSession, bank_version: int = BANK_VERSION) -> list[Question]:
    if bank_version not in _cache:
        questions = await repository.list_questions(session, bank_version)
        if not questions:
            raise NotFound(f"question bank version {bank_version} is not loaded")
        _cache[bank_version] = questions
    return _cache[bank_version]


_BANK = Statement(
    select(Question).where(Question.bank_version == bindparam("bank_version")).order_by(col(Question.position))
)


async def bank_direct(tx: DirectTransaction, bank_version: int) -> list[Question]:
    """`questions_for` on the kit's direct path (the same cache)."""
    if bank_version not in _cache:
        questions = [Question(**row) for row in await tx.all(_BANK, bank_version=bank_version)]
        if not questions:
            raise NotFound(f"question bank version {bank_version} is not loaded")
        _cache[bank_version] = questions
    return _cache[bank_version]


def find(bank: list[Question], question_id: str) -> Question:
    for question in bank:
        if question.id == question_id:
            return question
    raise NotFound(f"question {brief(question_id)} does not exist")
