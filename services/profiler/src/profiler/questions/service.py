"""The question bank is reference data: read once per process and version."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from profiler.models import Question
from profiler.questions import repository
from profiler.questions.bank import BANK_VERSION
from servicekit.errors import NotFound, brief

_cache: dict[int, list[Question]] = {}


async def questions_for(session: AsyncSession, bank_version: int = BANK_VERSION) -> list[Question]:
    if bank_version not in _cache:
        questions = await repository.list_questions(session, bank_version)
        if not questions:
            raise NotFound(f"question bank version {bank_version} is not loaded")
        _cache[bank_version] = questions
    return _cache[bank_version]


async def question_by_id(session: AsyncSession, bank_version: int, question_id: str) -> Question:
    for question in await questions_for(session, bank_version):
        if question.id == question_id:
            return question
    raise NotFound(f"question {brief(question_id)} does not exist")
