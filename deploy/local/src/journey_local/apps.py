"""Each service's settings and ASGI app, from its definition (servicekit.service), so tests that
walk every service's API cover a new service the day it is installed."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from journey_local.services import SERVICES, ServiceSpec
from servicekit.openapi_walk import Operation, operations
from servicekit.settings import ServiceSettings


def settings_for(spec: ServiceSpec, env: Mapping[str, str] | None = None) -> ServiceSettings:
    """The service's own settings class, from `env` (as `service_env` builds it) over the process environment."""
    values: dict[str, Any] = {name.lower(): value for name, value in (env or {}).items()}
    settings: ServiceSettings = spec.settings(**values)
    return settings


def app_for(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    return spec.app(settings)


@functools.cache
def documented_operations() -> tuple[Operation, ...]:
    """Every operation of every service's OpenAPI document (apps built from the process environment)."""
    return tuple(op for spec in SERVICES for op in operations(spec.name, app_for(spec, settings_for(spec)).openapi()))
