"""The profiler service, declared once: everything that runs or routes it derives from this."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from profiler import SCHEMA, worker
from profiler.personas.router import router as personas_router
from profiler.questions.router import router as questions_router
from profiler.questions.seed import seed_questions
from profiler.sessions.router import router as sessions_router
from profiler.settings import ProfilerSettings
from servicekit.service import ServiceDefinition


def _routers(_: ProfilerSettings) -> list[APIRouter]:
    return [questions_router, sessions_router, personas_router]


service = ServiceDefinition(
    name=SCHEMA,
    settings_class=ProfilerSettings,
    routers=_routers,
    subscriptions=worker.subscriptions,
    background=worker.background,
    seed=lambda conn, _settings: f"seeded {seed_questions(conn)} questions",
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    default_port=8101,
    description="questionnaire sessions and the Future-You persona",
)


def app(settings: ProfilerSettings | None = None) -> FastAPI:
    return service.app(settings)
