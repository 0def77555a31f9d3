"""Missions: recommendations with their reasons, the catalogue with filters, starting one,
submitting text and files (with upload progress; 413 and 415 explained in words) and the
review with per-criterion scores and the next step."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import UploadFile

from journey_web.api_client import segment
from journey_web.deps import (
    CsrfFailed,
    FormDep,
    SettingsDep,
    StudentDep,
    redirect,
    render,
    templates,
    too_large_message,
)
from journey_web.middleware import BodyTooLarge, session_of
from journey_web.problems import ApiProblem
from journey_web.session import CSRF_FIELD

router = APIRouter()

M = "missions"
FILTERS = ("tag", "skill", "difficulty_max", "max_minutes")


@router.get("/missions")
async def missions(request: Request, student: StudentDep) -> Response:
    filters = {name: request.query_params.get(name, "") for name in FILTERS}
    try:
        catalog = await student.api.get(f"{M}/catalog", params={**filters, "limit": 100})
        filter_error = None
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        catalog, filter_error = {"items": []}, exc.detail
    recommendations, dashboard, submissions, everything = await asyncio.gather(
        student.api.get(f"{M}/recommendations"),
        student.api.get("dashboard/me"),
        student.api.get(f"{M}/submissions", params={"limit": 10}),
        student.api.get(f"{M}/catalog", params={"limit": 100}) if any(filters.values()) else asyncio.sleep(0, catalog),
    )
    tags = sorted({tag for mission in everything["items"] for tag in mission["tags"]})
    return render(
        request,
        "missions.html",
        recommendations=recommendations,
        catalog=catalog["items"],
        filters=filters,
        tags=tags,
        filter_error=filter_error,
        in_progress=dashboard["missions_in_progress"],
        submissions=submissions["items"],
    )


async def _mission(student: StudentDep, mission_id: str) -> dict[str, Any]:
    catalog = await student.api.get(f"{M}/catalog", params={"limit": 100})
    for mission in catalog["items"]:
        if mission["id"] == mission_id:
            found: dict[str, Any] = mission
            return found
    raise ApiProblem(404, {"detail": f"there is no mission {mission_id!r} in the catalogue"})


@router.get("/missions/catalog/{mission_id}")
async def mission_page(request: Request, mission_id: str, student: StudentDep) -> Response:
    return render(request, "mission.html", mission=await _mission(student, mission_id))


@router.post("/missions/catalog/{mission_id}/start")
async def start(mission_id: str, form: FormDep, student: StudentDep) -> Response:
    key = str(form.get("idempotency_key") or "")
    try:
        enrollment = await student.api.post(
            f"{M}/catalog/{segment(mission_id)}/start", headers={"Idempotency-Key": key} if key else {}
        )
    except ApiProblem as exc:
        if exc.status != 409:
            raise
        student.session.say("You are already working on this mission: it is in your list below.")
        return redirect("/missions")
    student.session.say(f"Started “{enrollment['mission_title']}”. Submit your work when it is ready.")
    return redirect(f"/missions/{mission_id}/work/{enrollment['id']}")


async def _work_page(
    request: Request,
    student: StudentDep,
    mission_id: str,
    enrollment_id: uuid.UUID,
    *,
    error: str | None = None,
    text: str = "",
    status_code: int = 200,
) -> Response:
    mission, submissions = await asyncio.gather(
        _mission(student, mission_id),
        student.api.get(f"{M}/submissions", params={"enrollment_id": str(enrollment_id), "limit": 10}),
    )
    settings = request.app.state.settings
    return render(
        request,
        "mission_work.html",
        status_code=status_code,
        mission=mission,
        enrollment_id=enrollment_id,
        submissions=submissions["items"],
        error=error,
        text=text,
        max_upload_mib=settings.max_upload_bytes // (1024 * 1024),
    )


@router.get("/missions/{mission_id}/work/{enrollment_id}")
async def work(request: Request, mission_id: str, enrollment_id: uuid.UUID, student: StudentDep) -> Response:
    return await _work_page(request, student, mission_id, enrollment_id)


@router.post("/missions/{mission_id}/work/{enrollment_id}/submit")
async def submit(
    request: Request, mission_id: str, enrollment_id: uuid.UUID, student: StudentDep, settings: SettingsDep
) -> Response:
    length = request.headers.get("content-length", "")
    too_large = length.isdigit() and int(length) > settings.max_upload_bytes
    if not too_large:
        try:
            form = await request.form(max_files=10, max_fields=20)
        except BodyTooLarge:  # a chunked body has no Content-Length: cut off as it arrives
            too_large = True
    if too_large:
        message = too_large_message(settings)
        return await _work_page(request, student, mission_id, enrollment_id, error=message, status_code=413)
    if not session_of(request.scope).csrf_ok(form.get(CSRF_FIELD)):
        raise CsrfFailed
    text = str(form.get("text") or "")
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and (f.filename or f.size)]
    parts: list[tuple[str, Any]] = [("text", (None, text.encode()))]
    parts += [("files", (u.filename or "file", u.file, u.content_type or "application/octet-stream")) for u in uploads]
    key = str(form.get("idempotency_key") or "")
    try:
        created = await student.api.post(
            f"{M}/enrollments/{enrollment_id}/submissions", files=parts, headers={"Idempotency-Key": key} if key else {}
        )
    except ApiProblem as exc:
        if exc.status not in (409, 413, 415, 422):
            raise
        names = [u.filename or "file" for u in uploads]
        message = exc.in_words(filenames=names) if exc.status in (413, 415) else exc.detail
        if exc.status == 422:
            fields = exc.field_errors()
            message = "; ".join(f"{k}: {v}" if k else v for k, v in fields.items()) or exc.detail
        return await _work_page(
            request, student, mission_id, enrollment_id, error=message, text=text, status_code=exc.status
        )
    finally:
        for upload in uploads:
            await upload.close()
    student.session.say("Submitted. The review appears here when it is ready.")
    return redirect(f"/missions/submissions/{created['id']}")


@router.get("/missions/submissions/{submission_id}")
async def submission(request: Request, submission_id: uuid.UUID, student: StudentDep) -> Response:
    found = await student.api.get(f"{M}/submissions/{submission_id}")
    return render(request, "submission.html", s=found)


@router.get("/missions/submissions/{submission_id}/status")
async def submission_status(submission_id: uuid.UUID, student: StudentDep) -> Response:
    found = await student.api.get(f"{M}/submissions/{submission_id}")
    return Response(templates.get_template("_review.html").render(s=found), media_type="text/html")


@router.get("/missions/submissions/{submission_id}/files/{file_id}")
async def download(request: Request, submission_id: uuid.UUID, file_id: uuid.UUID, student: StudentDep) -> Response:
    """The file through the web app, which holds the token; as the API serves it (an attachment)."""
    client: httpx.AsyncClient = request.app.state.http
    upstream = await client.send(
        client.build_request(
            "GET", f"/api/v1/{M}/submissions/{submission_id}/files/{file_id}", headers=student.api.headers
        ),
        stream=True,
    )
    if upstream.status_code != 200:
        await upstream.aread()
        await upstream.aclose()
        raise ApiProblem.from_response(upstream)
    passed = {k: v for k, v in upstream.headers.items() if k.lower() in ("content-type", "content-disposition")}

    async def body() -> Any:
        try:
            async for chunk in upstream.aiter_bytes():
                yield chunk
        finally:
            await upstream.aclose()

    return StreamingResponse(body(), headers={**passed, "Cache-Control": "private, no-store"})
