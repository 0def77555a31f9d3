from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse

from coaching.goals import service
from coaching.goals.repository import goals
from coaching.goals.schemas import (
    GoalCreate,
    GoalPage,
    GoalProgressPublic,
    GoalPublic,
    GoalUpdate,
    MilestonePublic,
    ProgressIn,
)
from coaching.models import Goal
from servicekit.auth import CurrentPrincipal
from servicekit.deps import DbSession
from servicekit.idempotency import IdempotencyKey, idempotent
from servicekit.openapi import problem_responses
from servicekit.pagination import PageParams, page_params
from servicekit.repository import owned

router = APIRouter(prefix="/goals", tags=["goals"])
OwnedGoal = Annotated[Goal, Depends(owned(goals, param="goal_id"))]
LockedGoal = Annotated[Goal, Depends(owned(goals, param="goal_id", for_update=True))]


async def public(db: DbSession, goal: Goal, habit_ids: list[uuid.UUID] | None = None) -> GoalPublic:
    habit_ids = await service.linked(db, goal) if habit_ids is None else habit_ids
    progress = await service.progress_of(db, goal, habit_ids)
    milestones = (
        [MilestonePublic(index=i, **m) for i, m in enumerate(goal.milestones)] if goal.milestones is not None else None
    )
    return GoalPublic(
        **goal.model_dump(exclude={"user_id", "manual_value", "milestones"}),
        milestones=milestones,
        habit_ids=habit_ids,
        progress=GoalProgressPublic(**progress.__dict__),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=GoalPublic,
    responses=problem_responses(
        (409, "the suggestion is already adopted, or this Idempotency-Key is still in progress"),
        (422, "a field breaks its rule (named), or this Idempotency-Key was used for a different request"),
    ),
)
async def create_goal(
    body: GoalCreate,
    db: DbSession,
    principal: CurrentPrincipal,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a goal: a target value (with a unit) or a checklist of milestones, an optional
    deadline, linked habits; or adopt a persona suggestion with `from_persona_suggestion`."""

    async def produce() -> GoalPublic:
        goal = await service.create(db, principal.user_id, body)
        return await public(db, goal)

    return await idempotent(db, request, idempotency_key, produce, status_code=status.HTTP_201_CREATED)


@router.get("")
async def list_goals(
    db: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    goal_status: Annotated[
        Literal["active", "achieved", "abandoned"] | None,
        Query(alias="status", description="Only goals in this status."),
    ] = None,
) -> GoalPage:
    page, habit_ids = await service.page(db, params, status=goal_status)
    return GoalPage(items=[await public(db, g, habit_ids[g.id]) for g in page.items], next_cursor=page.next_cursor)


@router.get("/{goal_id}")
async def get_goal(goal: OwnedGoal, db: DbSession) -> GoalPublic:
    """The goal with its progress and pace: where a steady pace to the deadline would be today
    (`expected_value`) and whether you are there (`on_track`, `behind` by how much, ...)."""
    return await public(db, goal)


@router.patch(
    "/{goal_id}",
    responses=problem_responses((409, "an achieved goal stays achieved"), (422, "a field breaks its rule (named)")),
)
async def update_goal(goal: LockedGoal, body: GoalUpdate, db: DbSession, principal: CurrentPrincipal) -> GoalPublic:
    goal = await service.update(db, principal.user_id, goal, body)
    return await public(db, goal)


@router.delete("/{goal_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_goal(goal: LockedGoal, db: DbSession, principal: CurrentPrincipal) -> Response:
    """Delete the goal; its habits are kept, unlinked."""
    await service.delete(db, principal.user_id, goal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{goal_id}/progress",
    response_model=GoalPublic,
    responses=problem_responses(
        (409, "the goal is not active, or this Idempotency-Key is still in progress"),
        (422, "not one of delta, value or milestone+done; or a milestone the goal does not have"),
    ),
)
async def record_progress(
    goal: OwnedGoal,
    body: ProgressIn,
    db: DbSession,
    principal: CurrentPrincipal,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Move a goal: `delta` adds (retry it with an Idempotency-Key), `value` sets the current
    value, `milestone` + `done` ticks a checklist item. Reaching the target achieves the goal."""

    async def produce() -> GoalPublic:
        return await public(db, await service.record_progress(db, principal.user_id, goal.id, body))

    return await idempotent(db, request, idempotency_key, produce)
