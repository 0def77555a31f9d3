from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse

from coaching.models import Reflection
from coaching.reflections import service
from coaching.reflections.prompts import PROMPTS
from coaching.reflections.repository import reflections
from coaching.reflections.schemas import (
    Prompt,
    Prompts,
    ReflectionCreate,
    ReflectionPage,
    ReflectionPublic,
    Sentiment,
    Trend,
)
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession
from servicekit.idempotency import IdempotencyKey, idempotent
from servicekit.openapi import problem_responses
from servicekit.pagination import PageParams, page_params
from servicekit.repository import owned

router = APIRouter(prefix="/reflections", tags=["reflections"])
OwnedReflection = Annotated[Reflection, Depends(owned(reflections, param="reflection_id"))]


def public(reflection: Reflection) -> ReflectionPublic:
    return ReflectionPublic(
        id=reflection.id,
        text=reflection.text,
        mood=reflection.mood,
        prompt_id=reflection.prompt_id,
        prompt=PROMPTS.get(reflection.prompt_id) if reflection.prompt_id else None,
        habit_id=reflection.habit_id,
        goal_id=reflection.goal_id,
        local_date=reflection.local_date,
        sentiment=Sentiment(
            status=reflection.sentiment_status,
            label=reflection.sentiment_label,
            score=reflection.sentiment_score,
            themes=reflection.themes,
            supportive_sentence=reflection.supportive_sentence,
            provider=reflection.provider,
            fallback=reflection.fallback,
            scored_at=reflection.scored_at,
        ),
        created_at=reflection.created_at,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ReflectionPublic,
    responses=problem_responses(
        (409, "a request with this Idempotency-Key is still in progress"),
        (
            422,
            "a field breaks its rule (named; text is capped at REFLECTION_MAX_CHARS, 5,000 by default), "
            "or this Idempotency-Key was used for a different request",
        ),
    ),
)
async def create_reflection(
    body: ReflectionCreate,
    db: DbSession,
    principal: CurrentPrincipal,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Write a reflection. Its sentiment is scored in the background: `pending` at first, then
    `scored` (GET /reflections/{reflection_id})."""
    max_chars: int = request.app.state.settings.reflection_max_chars

    async def produce() -> ReflectionPublic:
        return public(await service.create(db, principal.user_id, body, max_chars=max_chars))

    return await idempotent(db, request, idempotency_key, produce, status_code=status.HTTP_201_CREATED)


@router.get("")
async def list_reflections(db: DbSession, params: Annotated[PageParams, Depends(page_params)]) -> ReflectionPage:
    page = await reflections.page(db, params)
    return ReflectionPage(items=[public(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/prompts")
async def list_prompts(_: CurrentPrincipal) -> Prompts:
    """The prompt set (static, but like every coaching route, for signed-in students only)."""
    return Prompts(items=[Prompt(id=k, text=v) for k, v in PROMPTS.items()])


@router.get("/trend")
async def reflection_trend(
    db: DbSession,
    request: Request,
    days: Annotated[int, Query(ge=1, le=365, description="Local days back, today included.")] = 30,
) -> Trend:
    """Mood and sentiment per local day, and, with enough reflection days, how your days went
    with and without each habit (a simple comparison of averages, not a cause)."""
    settings = request.app.state.settings
    result = await service.trend(db, days, min_days=settings.trend_min_days, min_each=settings.trend_min_each)
    return Trend(
        days=days,
        from_date=result.first,
        to_date=result.last,
        series=result.series,
        enough_data=result.enough_data,
        needed_days=settings.trend_min_days,
        better_days_with=result.correlations,
    )


@router.get("/{reflection_id}")
async def get_reflection(reflection: OwnedReflection) -> ReflectionPublic:
    return public(reflection)
