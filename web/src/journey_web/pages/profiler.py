"""The questionnaire, one question per step with progress and resume, and the persona page
whose pending state updates itself (the page polls a fragment while the API answers 202)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from journey_web.deps import FormDep, StudentDep, redirect, render, templates
from journey_web.problems import ApiProblem

router = APIRouter()

P = "profiler"


async def _current_persona(student: StudentDep) -> dict[str, Any] | None:
    try:
        persona: dict[str, Any] = await student.api.get(f"{P}/personas/current")
    except ApiProblem as exc:
        if exc.status == 404:
            return None
        raise
    return persona


def _first_open_step(questions: list[dict[str, Any]], session: dict[str, Any]) -> int:
    answered = {a["question_id"] for a in session["answers"]}
    for index, question in enumerate(questions, start=1):
        if question["id"] not in answered:
            return index
    return len(questions) + 1  # everything answered: the finish step


def _answers(session: dict[str, Any]) -> dict[str, Any]:
    return {a["question_id"]: a["value"] for a in session["answers"]}


@router.get("/questionnaire")
async def questionnaire(request: Request, student: StudentDep) -> Response:
    persona = await _current_persona(student)
    return render(request, "questionnaire_intro.html", persona=persona)


@router.post("/questionnaire/start")
async def start(request: Request, form: FormDep, student: StudentDep) -> Response:
    """Start, or resume from any device: the Idempotency-Key names "the questionnaire after the
    persona I have now", so the same POST finds the same open session again."""
    persona = await _current_persona(student)
    key = f"web-after-{persona['id']}" if persona else "web-first"
    created = await student.api.post(f"{P}/sessions", headers={"Idempotency-Key": key})
    # A replay answers the session as it was first created: read where it is now.
    session = await student.api.get(f"{P}/sessions/{created['id']}")
    if session["status"] == "completed":
        return redirect(f"/persona/{session['id']}")
    questions = (await student.api.get(f"{P}/questions"))["items"]
    return redirect(_step_url(session["id"], _first_open_step(questions, session), len(questions)))


def _step_url(session_id: str, step: int, total: int) -> str:
    return f"/questionnaire/{session_id}/finish" if step > total else f"/questionnaire/{session_id}/{step}"


async def _load(student: StudentDep, session_id: uuid.UUID) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    questions = (await student.api.get(f"{P}/questions"))["items"]
    session = await student.api.get(f"{P}/sessions/{session_id}")
    return questions, session


def _step_page(
    request: Request,
    questions: list[dict[str, Any]],
    session: dict[str, Any],
    step: int,
    *,
    value: Any = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    question = questions[step - 1]
    current = value if value is not None else _answers(session).get(question["id"])
    return render(
        request,
        "question.html",
        status_code=status_code,
        session=session,
        question=question,
        step=step,
        total=len(questions),
        current=current,
        error=error,
    )


@router.get("/questionnaire/{session_id}/finish")
async def finish_page(request: Request, session_id: uuid.UUID, student: StudentDep) -> Response:
    questions, session = await _load(student, session_id)
    if session["status"] == "completed":
        return redirect(f"/persona/{session_id}")
    missing = set(session["progress"]["required_missing"])
    missing_steps = [(i, q) for i, q in enumerate(questions, start=1) if q["id"] in missing]
    return render(
        request, "questionnaire_finish.html", session=session, total=len(questions), missing_steps=missing_steps
    )


@router.post("/questionnaire/{session_id}/finish")
async def finish(request: Request, session_id: uuid.UUID, form: FormDep, student: StudentDep) -> Response:
    try:
        await student.api.post(f"{P}/sessions/{session_id}/complete", headers={"Idempotency-Key": f"web-{session_id}"})
    except ApiProblem as exc:
        if exc.status == 409:
            return redirect(f"/persona/{session_id}")
        if exc.status != 422:
            raise
        questions, _ = await _load(student, session_id)
        missing = set(exc.field_errors())
        step = next((i for i, q in enumerate(questions, start=1) if q["id"] in missing), 1)
        student.session.say("This question needs an answer before you can finish.")
        return redirect(f"/questionnaire/{session_id}/{step}")
    return redirect(f"/persona/{session_id}")


@router.get("/questionnaire/{session_id}/{step}")
async def step_page(request: Request, session_id: uuid.UUID, step: int, student: StudentDep) -> Response:
    questions, session = await _load(student, session_id)
    if session["status"] == "completed":
        return redirect(f"/persona/{session_id}")
    if not 1 <= step <= len(questions):
        return redirect(_step_url(str(session_id), _first_open_step(questions, session), len(questions)))
    return _step_page(request, questions, session, step)


def _value_from(form: FormDep, question: dict[str, Any]) -> tuple[Any, str | None]:
    """The answer as the API takes it, or why it cannot be one; None when nothing was given."""
    kind = question["kind"]
    if kind == "multiple_choice":
        chosen = [str(v) for v in form.getlist("value")]
        return (chosen or None), None
    raw = str(form.get("value") or "").strip()
    if not raw:
        return None, None
    if kind == "scale":
        try:
            return int(raw), None
        except ValueError:
            return raw, f"Choose a whole number from {question['scale_min']} to {question['scale_max']}."
    return raw, None


@router.post("/questionnaire/{session_id}/{step}")
async def answer(request: Request, session_id: uuid.UUID, step: int, form: FormDep, student: StudentDep) -> Response:
    questions, session = await _load(student, session_id)
    if not 1 <= step <= len(questions):
        return redirect(f"/questionnaire/{session_id}/finish")
    question = questions[step - 1]
    next_url = _step_url(str(session_id), step + 1, len(questions))
    if form.get("action") == "back":
        return redirect(_step_url(str(session_id), max(1, step - 1), len(questions)))
    value, problem = _value_from(form, question)
    if problem:
        return _step_page(request, questions, session, step, value=value, error=problem, status_code=422)
    if value is None and (not question["required"] or form.get("action") == "skip"):
        return redirect(next_url)  # skipping: finishing names what is still required
    try:
        await student.api.put(f"{P}/sessions/{session_id}/answers/{question['id']}", json={"value": value})
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        message = exc.field_errors().get("value") or exc.detail
        return _step_page(request, questions, session, step, value=value, error=message, status_code=422)
    return redirect(next_url)


@router.get("/persona")
async def persona(request: Request, student: StudentDep) -> Response:
    current = await _current_persona(student)
    return render(request, "persona.html", persona=current, pending=None)


async def _persona_of(student: StudentDep, session_id: uuid.UUID) -> dict[str, Any]:
    response = await student.api.request("GET", f"{P}/sessions/{session_id}/persona")
    body: dict[str, Any] = response.json()
    return body


@router.get("/persona/{session_id}")
async def persona_of_session(request: Request, session_id: uuid.UUID, student: StudentDep) -> Response:
    found = await _persona_of(student, session_id)
    if found["status"] == "pending":
        return render(request, "persona.html", persona=None, pending=found)
    return render(request, "persona.html", persona=found, pending=None)


@router.get("/persona/{session_id}/status")
async def persona_status(request: Request, session_id: uuid.UUID, student: StudentDep) -> Response:
    """The fragment the pending page polls: the pending block again, or the persona."""
    found = await _persona_of(student, session_id)
    if found["status"] == "pending":
        html = templates.get_template("_persona_pending.html").render(pending=found)
    else:
        html = templates.get_template("_persona.html").render(persona=found)
    return Response(html, media_type="text/html")
