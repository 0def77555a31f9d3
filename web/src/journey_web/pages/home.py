"""Home is the dashboard: rendered from `GET /dashboard/me`, then kept live by `/live`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from journey_web.deps import StudentDep, render

router = APIRouter()


@router.get("/")
async def home(request: Request, student: StudentDep) -> Response:
    snapshot = await student.api.get("dashboard/me")
    return render(request, "home.html", d=snapshot)
