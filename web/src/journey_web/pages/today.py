"""Today: habits due in the student's time zone with one-tap check-in and undo, streak and
strength, creating and editing habits, goals with progress and pace, and the persona's
suggestions to adopt. The journal (reflections) is its own page."""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from journey_web.api_client import segment
from journey_web.deps import FormDep, StudentDep, redirect, render, templates
from journey_web.problems import ApiProblem

router = APIRouter()

C = "coaching"
HABIT_FIELDS = {"schedule.times": "times", "schedule.weekdays": "weekdays", "schedule": "schedule_kind", "": "name"}
GOAL_FIELDS = {"": "title"}


def _key(form: FormData) -> dict[str, str]:
    key = str(form.get("idempotency_key") or "")
    return {"Idempotency-Key": key} if key else {}


def _number(form: FormData, name: str) -> float | str | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        return raw  # the API names the field and says what it needs
    # "nan" and "inf" parse, but JSON cannot carry them: the API refuses them in words instead.
    return number if math.isfinite(number) else raw


def habit_body(form: FormData, *, creating: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"name": str(form.get("name") or "").strip() or None}
    kind = str(form.get("kind") or "boolean")
    if creating:
        body["kind"] = kind
    if kind == "measurable" or not creating:
        unit = str(form.get("unit") or "").strip()
        if unit or creating:
            body["unit"] = unit or None
        target = _number(form, "target")
        if target is not None or creating:
            body["target"] = target
    schedule: dict[str, Any] = {"kind": str(form.get("schedule_kind") or "daily")}
    if schedule["kind"] in ("weekly", "monthly"):
        times = _number(form, "times")
        schedule["times"] = int(times) if isinstance(times, float) and times.is_integer() else times
    elif schedule["kind"] == "weekdays":
        schedule["weekdays"] = [int(str(d)) for d in form.getlist("weekdays") if str(d).isdecimal()] or None
    body["schedule"] = schedule
    return body


async def _stats(student: StudentDep, habit_id: str) -> dict[str, Any]:
    stats: dict[str, Any] = await student.api.get(f"{C}/habits/{habit_id}/stats")
    return stats


async def today_page(
    request: Request,
    student: StudentDep,
    *,
    errors: dict[str, str] | None = None,
    goal_errors: dict[str, str] | None = None,
    tz_error: str | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    profile, habits, goals, suggestions = await asyncio.gather(
        student.api.get(f"{C}/profile"),
        student.api.get(f"{C}/habits", params={"limit": 50}),
        student.api.get(f"{C}/goals", params={"status": "active"}),
        student.api.get(f"{C}/suggestions"),
    )
    items = habits["items"]
    stats = await asyncio.gather(*(_stats(student, h["id"]) for h in items))
    return render(
        request,
        "today.html",
        status_code=status_code,
        profile=profile,
        habits=list(zip(items, stats, strict=True)),
        goals=goals["items"],
        suggestions=suggestions,
        errors=errors or {},
        goal_errors=goal_errors or {},
        tz_error=tz_error,
        values=values or {},
    )


@router.get("/today")
async def today(request: Request, student: StudentDep) -> Response:
    return await today_page(request, student)


@router.post("/today/timezone")
async def set_time_zone(request: Request, form: FormDep, student: StudentDep) -> Response:
    zone = str(form.get("time_zone") or "").strip()
    try:
        await student.api.put(f"{C}/profile", json={"time_zone": zone})
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        message = exc.field_errors().get("time_zone") or exc.detail
        return await today_page(request, student, tz_error=message, status_code=422)
    student.session.say(f"Your days now follow {zone}.")
    return redirect("/today")


@router.post("/today/habits")
async def create_habit(request: Request, form: FormDep, student: StudentDep) -> Response:
    try:
        habit = await student.api.post(f"{C}/habits", json=habit_body(form, creating=True), headers=_key(form))
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        errors = exc.field_errors(HABIT_FIELDS) or {"name": exc.detail}
        return await today_page(request, student, errors=errors, values=dict(form), status_code=422)
    student.session.say(f"Habit “{habit['name']}” created.")
    return redirect(f"/today#habit-{habit['id']}")


@router.get("/today/habits/{habit_id}/edit")
async def edit_habit_page(request: Request, habit_id: uuid.UUID, student: StudentDep) -> Response:
    habit = await student.api.get(f"{C}/habits/{habit_id}")
    return render(request, "habit_edit.html", habit=habit, errors={})


@router.post("/today/habits/{habit_id}/edit")
async def edit_habit(request: Request, habit_id: uuid.UUID, form: FormDep, student: StudentDep) -> Response:
    habit = await student.api.get(f"{C}/habits/{habit_id}")
    body = habit_body(form, creating=False)
    if habit["kind"] != "measurable":
        body.pop("unit", None)
        body.pop("target", None)
    try:
        await student.api.patch(f"{C}/habits/{habit_id}", json=body)
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        errors = exc.field_errors(HABIT_FIELDS) or {"name": exc.detail}
        return render(request, "habit_edit.html", status_code=422, habit={**habit, **body}, errors=errors)
    student.session.say("Habit saved.")
    return redirect(f"/today#habit-{habit_id}")


@router.post("/today/habits/{habit_id}/archive")
async def archive_habit(habit_id: uuid.UUID, form: FormDep, student: StudentDep) -> Response:
    await student.api.patch(f"{C}/habits/{habit_id}", json={"archived": True})
    student.session.say("Habit archived: it no longer counts toward your limit.")
    return redirect("/today")


@router.post("/today/habits/{habit_id}/delete")
async def delete_habit(habit_id: uuid.UUID, form: FormDep, student: StudentDep) -> Response:
    await student.api.delete(f"{C}/habits/{habit_id}")
    student.session.say("Habit deleted, with its check-ins.")
    return redirect("/today")


@router.post("/today/habits/{habit_id}/checkin")
async def check_in(habit_id: uuid.UUID, form: FormDep, student: StudentDep) -> Response:
    day = str(form.get("date") or "")
    value = _number(form, "value")
    try:
        result = await student.api.put(
            f"{C}/habits/{habit_id}/logs/{segment(day)}", json={"value": value} if value is not None else {}
        )
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        student.session.say(f"Not checked in: {exc.field_errors().get('value') or exc.detail}")
        return redirect(f"/today#habit-{habit_id}")
    stats = result["stats"]
    unit = stats["streak_unit"] + ("" if stats["current_streak"] == 1 else "s")
    student.session.say(f"Checked in. Streak {stats['current_streak']} {unit}, strength {stats['strength']}.")
    return redirect(f"/today#habit-{habit_id}")


@router.post("/today/habits/{habit_id}/undo")
async def undo_check_in(habit_id: uuid.UUID, form: FormDep, student: StudentDep) -> Response:
    day = str(form.get("date") or "")
    await student.api.delete(f"{C}/habits/{habit_id}/logs/{segment(day)}")
    student.session.say("Check-in undone.")
    return redirect(f"/today#habit-{habit_id}")


def goal_body(form: FormData) -> dict[str, Any]:
    body: dict[str, Any] = {"title": str(form.get("title") or "").strip() or None}
    milestones = [line.strip() for line in str(form.get("milestones") or "").splitlines() if line.strip()]
    if milestones:
        body["kind"] = "checklist"
        body["milestones"] = milestones
    else:
        body["kind"] = "target"
        body["target_value"] = _number(form, "target_value")
        body["unit"] = str(form.get("unit") or "").strip() or None
    deadline = str(form.get("deadline") or "").strip()
    if deadline:
        body["deadline"] = deadline
    return body


@router.post("/today/goals")
async def create_goal(request: Request, form: FormDep, student: StudentDep) -> Response:
    try:
        goal = await student.api.post(f"{C}/goals", json=goal_body(form), headers=_key(form))
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        errors = exc.field_errors(GOAL_FIELDS) or {"title": exc.detail}
        return await today_page(request, student, goal_errors=errors, values=dict(form), status_code=422)
    student.session.say(f"Goal “{goal['title']}” set: {goal['progress']['text']}.")
    return redirect(f"/today#goal-{goal['id']}")


@router.post("/today/goals/{goal_id}/progress")
async def goal_progress(goal_id: uuid.UUID, form: FormDep, student: StudentDep) -> Response:
    if form.get("milestone") is not None:
        milestone = str(form.get("milestone"))
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        body: dict[str, Any] = {"milestone": int(milestone) if milestone.isdecimal() else milestone}
        body["done"] = form.get("done") == "true"
    else:
        body = {"delta": _number(form, "delta")}
    try:
        goal = await student.api.post(f"{C}/goals/{goal_id}/progress", json=body, headers=_key(form))
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        student.session.say(f"Progress not recorded: {next(iter(exc.field_errors().values()), exc.detail)}")
        return redirect(f"/today#goal-{goal_id}")
    student.session.say(f"“{goal['title']}”: {goal['progress']['text']}.")
    return redirect(f"/today#goal-{goal_id}")


@router.post("/today/goals/{goal_id}/abandon")
async def abandon_goal(goal_id: uuid.UUID, form: FormDep, student: StudentDep) -> Response:
    goal = await student.api.patch(f"{C}/goals/{goal_id}", json={"status": "abandoned"})
    student.session.say(f"“{goal['title']}” set aside. Its progress is kept.")
    return redirect("/today")


@router.post("/today/suggestions/{suggestion_id}/adopt")
async def adopt(suggestion_id: uuid.UUID, form: FormDep, student: StudentDep) -> Response:
    kind = "goals" if form.get("kind") == "goal" else "habits"
    created = await student.api.post(
        f"{C}/{kind}", json={"from_persona_suggestion": str(suggestion_id)}, headers=_key(form)
    )
    student.session.say(f"Adopted “{created.get('title') or created.get('name')}”.")
    return redirect("/today")


@router.get("/journal")
async def journal(request: Request, student: StudentDep) -> Response:
    return await journal_page(request, student)


async def journal_page(
    request: Request,
    student: StudentDep,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    reflections, prompts = await asyncio.gather(
        student.api.get(f"{C}/reflections", params={"limit": 20}), student.api.get(f"{C}/reflections/prompts")
    )
    return render(
        request,
        "journal.html",
        status_code=status_code,
        reflections=reflections["items"],
        prompts=prompts["items"],
        errors=errors or {},
        values=values or {},
    )


@router.post("/journal")
async def write_reflection(request: Request, form: FormDep, student: StudentDep) -> Response:
    body: dict[str, Any] = {"text": str(form.get("text") or "")}
    mood = str(form.get("mood") or "")
    if mood:
        body["mood"] = int(mood) if mood.isdecimal() else mood
    if form.get("prompt_id"):
        body["prompt_id"] = str(form.get("prompt_id"))
    try:
        reflection = await student.api.post(f"{C}/reflections", json=body, headers=_key(form))
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        errors = exc.field_errors({"": "text"}) or {"text": exc.detail}
        return await journal_page(request, student, errors=errors, values=dict(form), status_code=422)
    student.session.say("Reflection saved. Its sentiment appears here once it is scored.")
    return redirect(f"/journal#reflection-{reflection['id']}")


@router.get("/journal/{reflection_id}/sentiment")
async def sentiment(reflection_id: uuid.UUID, student: StudentDep) -> Response:
    reflection = await student.api.get(f"{C}/reflections/{reflection_id}")
    html = templates.get_template("_sentiment.html").render(r=reflection)
    return Response(html, media_type="text/html")
