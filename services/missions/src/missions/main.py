"""The missions service, declared once: everything that runs or routes it derives from this."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from missions import SCHEMA, worker
from missions.catalog.router import router as catalog_router
from missions.catalog.seed import seed_catalog
from missions.enrollments.router import router as enrollments_router
from missions.recommendations.router import router as recommendations_router
from missions.settings import MissionsSettings
from missions.submissions.router import build_router as submissions_router
from servicekit.service import ServiceDefinition


def _routers(settings: MissionsSettings) -> list[APIRouter]:
    return [catalog_router, recommendations_router, enrollments_router, submissions_router(settings)]


service = ServiceDefinition(
    name=SCHEMA,
    settings_class=MissionsSettings,
    routers=_routers,
    subscriptions=worker.subscriptions,
    background=worker.background,
    seed=lambda conn, _settings: seed_catalog(conn),
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    default_port=8103,
    # Uploads stream through the gateway unbuffered: the route caps files as they arrive and its
    # 413 names the file and the cap (the gateway's buffer would answer a bare 413 instead).
    streaming_paths=("/enrollments/{enrollment_id}/submissions",),
    description="mission catalogue, recommendations, file submissions and rubric-based AI review",
)


def app(settings: MissionsSettings | None = None) -> FastAPI:
    return service.app(settings)
