"""The coaching service, declared once: everything that runs or routes it derives from this."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from coaching import SCHEMA, worker
from coaching.goals.router import router as goals_router
from coaching.habits.router import router as habits_router
from coaching.profile.router import router as profile_router
from coaching.reflections.router import router as reflections_router
from coaching.settings import CoachingSettings
from coaching.suggestions.router import router as suggestions_router
from servicekit.service import ServiceDefinition


def _routers(_: CoachingSettings) -> list[APIRouter]:
    return [habits_router, goals_router, reflections_router, suggestions_router, profile_router]


service = ServiceDefinition(
    name=SCHEMA,
    settings_class=CoachingSettings,
    routers=_routers,
    subscriptions=worker.subscriptions,
    background=worker.background,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    default_port=8102,
    description="habits with streaks and strength, goals with progress, reflections with sentiment",
)


def app(settings: CoachingSettings | None = None) -> FastAPI:
    return service.app(settings)
