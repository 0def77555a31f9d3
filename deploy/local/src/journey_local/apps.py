"""Each service's settings and ASGI app, found from SERVICES by the package conventions every
service follows (`<name>.settings.get_settings`, `<name>.main.app(settings)`), so tests that walk
every service's API cover a new service the day it lands in SERVICES."""

from __future__ import annotations

import functools
import importlib
import typing
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI

from journey_local.services import SERVICES, ServiceSpec
from servicekit.openapi_walk import Operation, operations
from servicekit.settings import ServiceSettings


def settings_for(spec: ServiceSpec, env: Mapping[str, str] | None = None) -> ServiceSettings:
    """The service's own settings class, from `env` (as `service_env` builds it) over the process environment."""
    factory = importlib.import_module(f"{spec.name}.settings").get_settings
    settings_class: type[ServiceSettings] = typing.get_type_hints(factory)["return"]
    values: dict[str, Any] = {name.lower(): value for name, value in (env or {}).items()}
    return settings_class(**values)


def app_for(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    app: FastAPI = importlib.import_module(f"{spec.name}.main").app(settings)
    return app


@functools.cache
def documented_operations() -> tuple[Operation, ...]:
    """Every operation of every service's OpenAPI document (apps built from the process environment)."""
    return tuple(op for spec in SERVICES for op in operations(spec.name, app_for(spec, settings_for(spec)).openapi()))
