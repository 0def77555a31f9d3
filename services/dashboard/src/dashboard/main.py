"""The dashboard service, declared once: everything that runs or routes it derives from this."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from dashboard import SCHEMA, worker
from dashboard import models as models  # the mapped tables register on import (models-vs-migrations test)
from dashboard.live.hub import hub_lifespan
from dashboard.me.router import router as me_router
from dashboard.rebuild.service import rebuild_command
from dashboard.settings import DashboardSettings
from servicekit.service import Command, ServiceDefinition


def _routers(_: DashboardSettings) -> list[APIRouter]:
    return [me_router]


service = ServiceDefinition(
    name=SCHEMA,
    settings_class=DashboardSettings,
    routers=_routers,
    subscriptions=worker.subscriptions,
    background=worker.background,
    migrations_dir=Path(__file__).resolve().parents[2] / "migrations",
    lifespan=hub_lifespan,
    default_port=8105,
    streaming_paths=("/me/stream",),
    own_429_paths=("/me/refresh",),  # its once-per-10-s limit answers 429 with its own Retry-After
    system_role=True,
    commands={"rebuild": Command("replay every stream into a fresh projection and switch over", rebuild_command)},
    description="one live per-user view built only from events",
)


def app(settings: DashboardSettings | None = None) -> FastAPI:
    return service.app(settings)
