"""The gateway's routers and backends, generated from the services that are installed: a new
service is routed the day it exists, with the same middleware chain as every other."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

HEALTH_CHECK = {"path": "/healthz", "interval": "5s", "timeout": "2s"}


STREAMING_PRIORITY = 10_000  # above any PathPrefix router (Traefik's default is the rule's length)
WEB_PRIORITY = 1  # below every API router: the web app gets what no /api/v1 route takes
WEB_RULE = "PathPrefix(`/`) && !PathPrefix(`/api/`)"


def path_rule(path: str) -> str:
    """A Traefik rule for one path; a `{param}` segment matches any one segment."""
    if "{" not in path:
        return f"Path(`{path}`)"
    literal = re.split(r"\{[^/{}]+\}", path)
    return "PathRegexp(`^" + "[^/]+".join(re.escape(part) for part in literal) + "$`)"


def own_chain_paths(streaming: Sequence[str], own_429: Sequence[str]) -> list[tuple[str, str, str]]:
    """(router key, path, chain) of a service's paths that take a chain of their own, above its
    prefix router: streaming paths `journey-stream`, paths keeping their own 429 `journey-own-429`."""
    return [(f"stream-{i}", path, "journey-stream") for i, path in enumerate(streaming)] + [
        (f"own-429-{i}", path, "journey-own-429") for i, path in enumerate(own_429)
    ]


def routes_config(
    service_urls: Mapping[str, str],
    streaming_paths: Mapping[str, Sequence[str]] | None = None,
    own_429_paths: Mapping[str, Sequence[str]] | None = None,
    web_url: str | None = None,
) -> dict[str, Any]:
    """Traefik dynamic configuration: `/api/v1/<name>` → that service, and the problem pages
    (which any service serves) balanced over all of them. A service's streaming paths
    (`ServiceDefinition.streaming_paths`: Server-Sent Events, uploads the service caps as it
    reads) get a router of their own with the `journey-stream` chain: the same middlewares without
    the body-limit buffering, which would hold a stream back until it ends (and answer 413 in
    the service's place). A service's `own_429_paths` get the `journey-own-429` chain: the
    usual middlewares, but only 413 becomes the problem page, so the service's own 429 (its
    detail and Retry-After) reaches the client; the gateway's rate limit there answers with
    Traefik's own 429 (plain text, with an exact Retry-After).
    The web app, when given, takes every path outside `/api/` at the lowest
    priority with the `journey-web` chain: its own strict Content-Security-Policy (the API's
    `default-src 'none'` would forbid its stylesheet and script), and no buffering, so the live
    dashboard's relay streams and uploads reach the app as they arrive (it caps bodies itself)."""
    routers: dict[str, Any] = {
        name: {
            "rule": f"PathPrefix(`/api/v1/{name}`)",
            "entryPoints": ["web"],
            "service": name,
            "middlewares": ["journey"],
        }
        for name in service_urls
    }
    for name in service_urls:
        streaming = (streaming_paths or {}).get(name, ())
        for key, path, chain in own_chain_paths(streaming, (own_429_paths or {}).get(name, ())):
            routers[f"{name}-{key}"] = {
                "rule": path_rule(f"/api/v1/{name}{path}"),
                "entryPoints": ["web"],
                "service": name,
                "middlewares": [chain],
                "priority": STREAMING_PRIORITY,
            }
    services: dict[str, Any] = {
        name: {"loadBalancer": {"servers": [{"url": url}], "healthCheck": HEALTH_CHECK}}
        for name, url in service_urls.items()
    }
    if web_url is not None:
        routers["web"] = {
            "rule": WEB_RULE,
            "entryPoints": ["web"],
            "service": "web",
            "middlewares": ["journey-web"],
            "priority": WEB_PRIORITY,
        }
        services["web"] = {"loadBalancer": {"servers": [{"url": web_url}], "healthCheck": HEALTH_CHECK}}
    services["problem-pages"] = {
        "loadBalancer": {"servers": [{"url": url} for url in service_urls.values()], "healthCheck": HEALTH_CHECK}
    }
    return {"http": {"routers": routers, "services": services}}


def render_routes(
    service_urls: Mapping[str, str],
    streaming_paths: Mapping[str, Sequence[str]] | None = None,
    own_429_paths: Mapping[str, Sequence[str]] | None = None,
    web_url: str | None = None,
) -> str:
    """As YAML (JSON is YAML), for Traefik's file provider."""
    header = "# Generated from the service definitions by journey_local.gateway_routes; do not edit.\n"
    config = routes_config(service_urls, streaming_paths, own_429_paths, web_url)
    return header + json.dumps(config, indent=2) + "\n"
