from __future__ import annotations

from fastapi import APIRouter

from profiler.questions import service
from profiler.questions.bank import BANK_VERSION
from profiler.questions.schemas import QuestionBankPublic, QuestionPublic
from servicekit.deps import DbSession
from servicekit.openapi import problem_responses

router = APIRouter(tags=["questions"])


@router.get("/questions", responses=problem_responses((404, "the question bank is not loaded")))
async def get_questions(session: DbSession) -> QuestionBankPublic:
    questions = await service.questions_for(session, BANK_VERSION)
    return QuestionBankPublic(
        version=BANK_VERSION, items=[QuestionPublic.model_validate(q, from_attributes=True) for q in questions]
    )
