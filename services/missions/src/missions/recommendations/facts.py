"""Consumers that keep what recommendations know: the newest persona (profiler) and the active
goals and habits (coaching). Each upsert is ordered by the event's time, so redelivery and
out-of-order delivery leave the newest fact in place."""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession

from contracts import coaching
from contracts.profiler import PersonaGenerated
from missions.recommendations import repository
from servicekit.events import Event, on
from servicekit.events.consumer import Subscription


def _user(event: Event) -> uuid.UUID:
    user_id = event.user_id()
    if user_id is None:
        raise ValueError(f"{event.type} without a user subject")
    return user_id


async def persona_generated(db: AsyncSession, persona: PersonaGenerated, event: Event) -> None:
    await repository.upsert_persona(
        db,
        user_id=_user(event),
        persona_id=persona.persona_id,
        name=persona.name,
        tags=persona.mission_tags,
        goals=persona.suggested_goals,
        at=event.time,
        event_id=event.id,
    )


async def _goal(db: AsyncSession, event: Event, goal_id: uuid.UUID, title: str, active: bool) -> None:
    await repository.upsert_fact(
        db, user_id=_user(event), kind="goal", ref_id=goal_id, title=title, active=active, at=event.time
    )


async def _habit(db: AsyncSession, event: Event, habit_id: uuid.UUID, name: str, active: bool) -> None:
    await repository.upsert_fact(
        db, user_id=_user(event), kind="habit", ref_id=habit_id, title=name, active=active, at=event.time
    )


async def goal_created(db: AsyncSession, p: coaching.GoalCreated, event: Event) -> None:
    await _goal(db, event, p.goal.goal_id, p.goal.title, p.goal.status == "active")


async def goal_updated(db: AsyncSession, p: coaching.GoalUpdated, event: Event) -> None:
    await _goal(db, event, p.goal.goal_id, p.goal.title, p.goal.status == "active")


async def goal_achieved(db: AsyncSession, p: coaching.GoalAchieved, event: Event) -> None:
    await _goal(db, event, p.goal_id, p.title, False)


async def goal_abandoned(db: AsyncSession, p: coaching.GoalAbandoned, event: Event) -> None:
    await _goal(db, event, p.goal_id, p.title, False)


async def goal_deleted(db: AsyncSession, p: coaching.GoalDeleted, event: Event) -> None:
    await _goal(db, event, p.goal_id, p.title, False)


async def habit_created(db: AsyncSession, p: coaching.HabitCreated, event: Event) -> None:
    await _habit(db, event, p.habit.habit_id, p.habit.name, not p.habit.archived)


async def habit_updated(db: AsyncSession, p: coaching.HabitUpdated, event: Event) -> None:
    await _habit(db, event, p.habit.habit_id, p.habit.name, not p.habit.archived)


async def habit_archived(db: AsyncSession, p: coaching.HabitArchived, event: Event) -> None:
    await _habit(db, event, p.habit_id, p.name, False)


async def habit_deleted(db: AsyncSession, p: coaching.HabitDeleted, event: Event) -> None:
    await _habit(db, event, p.habit_id, p.name, False)


def subscriptions() -> list[Subscription]:
    return [
        on(PersonaGenerated, persona_generated, durable="missions-persona-facts"),
        on(coaching.GoalCreated, goal_created, durable="missions-goal-created"),
        on(coaching.GoalUpdated, goal_updated, durable="missions-goal-updated"),
        on(coaching.GoalAchieved, goal_achieved, durable="missions-goal-achieved"),
        on(coaching.GoalAbandoned, goal_abandoned, durable="missions-goal-abandoned"),
        on(coaching.GoalDeleted, goal_deleted, durable="missions-goal-deleted"),
        on(coaching.HabitCreated, habit_created, durable="missions-habit-created"),
        on(coaching.HabitUpdated, habit_updated, durable="missions-habit-updated"),
        on(coaching.HabitArchived, habit_archived, durable="missions-habit-archived"),
        on(coaching.HabitDeleted, habit_deleted, durable="missions-habit-deleted"),
    ]
