"""Assembles the profiler API."""

from __future__ import annotations

from fastapi import FastAPI

from profiler.personas.router import router as personas_router
from profiler.questions.router import router as questions_router
from profiler.sessions.router import router as sessions_router
from profiler.settings import ProfilerSettings, get_settings
from servicekit.app import create_app


def app(settings: ProfilerSettings | None = None) -> FastAPI:
    return create_app(settings or get_settings(), [questions_router, sessions_router, personas_router])
