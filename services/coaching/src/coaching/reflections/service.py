"""Reflections: stored `pending`, scored by the sentiment job in the worker; the trend of mood
and sentiment per day, and which habits went with better days."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import fmean

from sqlmodel.ext.asyncio.session import AsyncSession

from coaching.goals import service as goals_service
from coaching.models import Habit, HabitLog, Reflection
from coaching.profile import service as profile_service
from coaching.reflections import repository
from coaching.reflections.prompts import PROMPTS
from coaching.reflections.schemas import HabitCorrelation, ReflectionCreate, TrendDay
from coaching.reflections.sentiment import INSTRUCTIONS, SentimentContent, score_offline
from contracts import coaching as events
from entitlements.guard import model_ai_allowed
from servicekit.ai import AIResult, StructuredTask
from servicekit.ai_job import AIJob
from servicekit.errors import Unprocessable
from servicekit.events import Event, emit
from servicekit.logging import get_logger

log = get_logger(__name__)


def _invalid(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])


async def create(db: AsyncSession, user_id: uuid.UUID, body: ReflectionCreate, *, max_chars: int) -> Reflection:
    if len(body.text) > max_chars:
        raise _invalid("text", f"{len(body.text)} characters; at most {max_chars}")
    if body.prompt_id is not None and body.prompt_id not in PROMPTS:
        raise _invalid("prompt_id", "not one of GET /reflections/prompts")
    if body.habit_id is not None and await db.get(Habit, body.habit_id) is None:
        raise _invalid("habit_id", f"no habit {body.habit_id} of yours")
    if body.goal_id is not None:
        await goals_service.ensure_goal(db, body.goal_id, field="goal_id")
    reflection = Reflection(
        user_id=user_id,
        text=body.text,
        mood=body.mood,
        prompt_id=body.prompt_id,
        habit_id=body.habit_id,
        goal_id=body.goal_id,
        local_date=await profile_service.today(db),
    )
    reflection = await repository.reflections.add(db, reflection)
    created = events.ReflectionCreated(
        reflection_id=reflection.id,
        local_date=reflection.local_date,
        mood=reflection.mood,
        prompt_id=reflection.prompt_id,
        habit_id=reflection.habit_id,
        goal_id=reflection.goal_id,
        length=len(reflection.text),
    )
    await emit(db, created, user_id=user_id)
    return reflection


# --- the sentiment job (worker) ------------------------------------------------------------


async def load_task(
    db: AsyncSession, created: events.ReflectionCreated, _event: Event
) -> StructuredTask[SentimentContent] | None:
    """What the model needs, or None when the reflection is gone or already scored."""
    reflection = await repository.reflections.get(db, created.reflection_id)
    if reflection is None or reflection.sentiment_status != "pending":
        return None
    text = reflection.text
    return StructuredTask(
        name="reflection_sentiment",
        instructions=INSTRUCTIONS,
        input={"reflection": text, "mood_1_to_5": reflection.mood},
        schema=SentimentContent,
        offline=lambda: score_offline(text),
    )


async def store_score(
    db: AsyncSession, created: events.ReflectionCreated, event: Event, result: AIResult[SentimentContent]
) -> None:
    """Store the score and announce it, once (the row lock and the pending check)."""
    reflection = await repository.reflections.get(db, created.reflection_id, for_update=True)
    if reflection is None or reflection.sentiment_status != "pending":
        return
    value = result.value
    changes = {
        "sentiment_status": "scored",
        "sentiment_label": value.label,
        "sentiment_score": value.score,
        "themes": value.themes,
        "supportive_sentence": value.supportive_sentence,
        "provider": result.provider,
        "fallback": result.fallback,
        "fallback_reason": result.reason,
        "scored_at": datetime.now(UTC),
    }
    reflection = await repository.reflections.update(db, reflection, changes)
    scored = events.ReflectionScored(
        reflection_id=reflection.id,
        local_date=reflection.local_date,
        mood=reflection.mood,
        label=value.label,
        score=value.score,
        themes=value.themes,
        provider=result.provider,
        fallback=result.fallback,
    )
    await emit(db, scored, user_id=event.user_id())


sentiment_job = AIJob(
    payload=events.ReflectionCreated,
    durable="coaching-sentiment",
    load=load_task,
    store=store_score,
    allows_model=model_ai_allowed,
)


# --- the trend ------------------------------------------------------------------------------


def day_score(reflections: list[Reflection]) -> float | None:
    """One number per day, -1..1: the average of the chosen moods (1-5 mapped onto -1..1) and
    the sentiment scores; None with neither."""
    parts = [(r.mood - 3) / 2 for r in reflections if r.mood is not None]
    parts += [r.sentiment_score for r in reflections if r.sentiment_score is not None]
    return fmean(parts) if parts else None


@dataclass(frozen=True)
class TrendResult:
    first: date
    last: date
    series: list[TrendDay]
    enough_data: bool
    correlations: list[HabitCorrelation]


def correlate(
    habits: list[Habit], logs: list[HabitLog], scores: dict[date, float], *, min_days: int, min_each: int
) -> tuple[bool, list[HabitCorrelation]]:
    """For each habit, the average day score on days it was done vs days it was not (days with
    a score, from the habit's start). Shown only with enough days on each side."""
    if len(scores) < min_days:
        return False, []
    done: dict[uuid.UUID, set[date]] = defaultdict(set)
    for entry in logs:
        done[entry.habit_id].add(entry.local_date)
    found = []
    for habit in habits:
        days = [d for d in scores if d >= habit.start_date]
        with_it = [scores[d] for d in days if d in done[habit.id]]
        without = [scores[d] for d in days if d not in done[habit.id]]
        if len(with_it) < min_each or len(without) < min_each:
            continue
        on, off = fmean(with_it), fmean(without)
        found.append(
            HabitCorrelation(
                habit_id=habit.id,
                name=habit.name,
                days_done=len(with_it),
                days_not_done=len(without),
                score_when_done=round(on, 3),
                score_when_not_done=round(off, 3),
                difference=round(on - off, 3),
            )
        )
    return True, sorted(found, key=lambda c: c.difference, reverse=True)


async def trend(db: AsyncSession, days: int, *, min_days: int, min_each: int) -> TrendResult:
    last = await profile_service.today(db)
    first = last - timedelta(days=days - 1)
    by_day: dict[date, list[Reflection]] = defaultdict(list)
    for reflection in await repository.between(db, first, last):
        by_day[reflection.local_date].append(reflection)
    series = []
    scores: dict[date, float] = {}
    for day in sorted(by_day):
        items = by_day[day]
        moods = [r.mood for r in items if r.mood is not None]
        sentiments = [r.sentiment_score for r in items if r.sentiment_score is not None]
        series.append(
            TrendDay(
                date=day,
                reflections=len(items),
                mood=round(fmean(moods), 2) if moods else None,
                sentiment=round(fmean(sentiments), 3) if sentiments else None,
            )
        )
        score = day_score(items)
        if score is not None:
            scores[day] = score
    habits = await repository.active_habits(db)
    logs = await repository.logs_between(db, [h.id for h in habits], first, last)
    completed = [entry for entry in logs if _completed(habits, entry)]
    enough, correlations = correlate(habits, completed, scores, min_days=min_days, min_each=min_each)
    return TrendResult(first, last, series, enough, correlations)


def _completed(habits: list[Habit], entry: HabitLog) -> bool:
    habit = next(h for h in habits if h.id == entry.habit_id)
    return habit.kind != "measurable" or (habit.target is not None and entry.value >= habit.target)
