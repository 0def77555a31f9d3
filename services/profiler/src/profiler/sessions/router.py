from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from profiler.sessions import service
from profiler.sessions.schemas import AnswerIn, AnswerPublic, CompletionAccepted, Progress, SessionPublic
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession
from servicekit.direct import DirectTx
from servicekit.idempotency import IdempotencyKey, idempotent
from servicekit.openapi import problem_responses

router = APIRouter(prefix="/sessions", tags=["sessions"])


def persona_url(session_id: uuid.UUID) -> str:
    return f"/api/v1/profiler/sessions/{session_id}/persona"


async def _public(db: DbSession, session_id: uuid.UUID) -> SessionPublic:
    row = await service.owned(db, session_id)
    answers = await service.answers_of(db, session_id)
    return SessionPublic(
        **row.model_dump(exclude={"user_id"}),
        answers=[AnswerPublic.model_validate(a, from_attributes=True) for a in answers],
        progress=Progress(answered=len(answers), required_missing=await service.missing_required(db, row, answers)),
        persona_url=persona_url(row.id) if row.status == "completed" else None,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionPublic,
    responses=problem_responses(
        (404, "the question bank is not loaded"),
        (409, "a request with this Idempotency-Key is still in progress"),
        (422, "this Idempotency-Key was used for a different request"),
    ),
)
async def start_session(
    db: DbSession, principal: CurrentPrincipal, request: Request, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    async def start() -> SessionPublic:
        row = await service.start(db, principal.user_id)
        return await _public(db, row.id)

    return await idempotent(db, request, idempotency_key, start, status_code=status.HTTP_201_CREATED)


@router.get("/{session_id}")
async def get_session(session_id: uuid.UUID, db: DbSession) -> SessionPublic:
    return await _public(db, session_id)


@router.put(
    "/{session_id}/answers/{question_id}",
    responses=problem_responses((409, "the session is completed"), (422, "the value breaks its question's rules")),
)
async def put_answer(
    session_id: uuid.UUID, question_id: str, body: AnswerIn, tx: DirectTx, principal: CurrentPrincipal
) -> AnswerPublic:
    return AnswerPublic.model_validate(await service.answer(tx, principal.user_id, session_id, question_id, body.value))


@router.post(
    "/{session_id}/complete",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CompletionAccepted,
    responses=problem_responses(
        (402, "the persona rule refuses: the problem names the limit and the tier that lifts it"),
        (
            409,
            "the session is already completed (and this is not a replay with its key), or a request with "
            "this Idempotency-Key is still in progress",
        ),
        (422, "required questions are unanswered, or this Idempotency-Key was used for a different request"),
    ),
)
async def complete_session(
    session_id: uuid.UUID,
    db: DbSession,
    principal: CurrentPrincipal,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def complete() -> CompletionAccepted:
        persona = await service.complete(db, principal.user_id, session_id)
        return CompletionAccepted(
            session_id=session_id, persona_id=persona.id, status=persona.status, persona_url=persona_url(session_id)
        )

    response = await idempotent(db, request, idempotency_key, complete, status_code=status.HTTP_202_ACCEPTED)
    response.headers["Location"] = persona_url(session_id)
    return response
