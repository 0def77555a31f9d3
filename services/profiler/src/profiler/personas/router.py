from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from profiler.models import Persona
from profiler.personas import service
from profiler.personas.schemas import PersonaPending, PersonaPublic
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession
from servicekit.direct import DirectRead
from servicekit.openapi import problem_responses

router = APIRouter(tags=["personas"])


def _public(persona: Persona) -> PersonaPublic:
    return PersonaPublic.model_validate(persona, from_attributes=True)


@router.get(
    "/sessions/{session_id}/persona",
    response_model=PersonaPublic,
    responses={202: {"model": PersonaPending, "description": "still being written; retry after the hint"}},
)
async def get_session_persona(session_id: uuid.UUID, db: DbSession, request: Request) -> PersonaPublic | JSONResponse:
    persona = await service.for_session(db, session_id)
    if persona.status == "pending":
        retry = request.app.state.settings.persona_retry_after_seconds
        body = PersonaPending(id=persona.id, session_id=session_id, status="pending", retry_after_seconds=retry)
        return JSONResponse(body.model_dump(mode="json"), status_code=202, headers={"Retry-After": str(retry)})
    return _public(persona)


@router.get(
    "/personas/current", response_model=PersonaPublic, responses=problem_responses((404, "no ready persona yet"))
)
async def get_current_persona(db: DirectRead, principal: CurrentPrincipal) -> Response:
    # The hottest read: serialise once here rather than validate again in the response model.
    persona = PersonaPublic.model_validate(await service.current(db, principal.user_id))
    return Response(persona.model_dump_json(), media_type="application/json")
