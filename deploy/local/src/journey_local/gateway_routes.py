"""The gateway's routers and backends, generated from the services that are installed: a new
service is routed the day it exists, with the same middleware chain as every other."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

HEALTH_CHECK = {"path": "/healthz", "interval": "5s", "timeout": "2s"}


def routes_config(service_urls: Mapping[str, str]) -> dict[str, Any]:
    """Traefik dynamic configuration: `/api/v1/<name>` → that service, and the problem pages
    (which any service serves) balanced over all of them."""
    routers = {
        name: {
            "rule": f"PathPrefix(`/api/v1/{name}`)",
            "entryPoints": ["web"],
            "service": name,
            "middlewares": ["journey"],
        }
        for name in service_urls
    }
    services: dict[str, Any] = {
        name: {"loadBalancer": {"servers": [{"url": url}], "healthCheck": HEALTH_CHECK}}
        for name, url in service_urls.items()
    }
    services["problem-pages"] = {
        "loadBalancer": {"servers": [{"url": url} for url in service_urls.values()], "healthCheck": HEALTH_CHECK}
    }
    return {"http": {"routers": routers, "services": services}}


def render_routes(service_urls: Mapping[str, str]) -> str:
    """As YAML (JSON is YAML), for Traefik's file provider."""
    header = "# Generated from the service definitions by journey_local.gateway_routes; do not edit.\n"
    return header + json.dumps(routes_config(service_urls), indent=2) + "\n"
