"""Every process of the running stack serves its metrics on its own port, the gateway does not
route them, and Traefik's own metrics are on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from journey_local.stack import Stack

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "observability" / "grafana-journey.json"


def test_every_api_and_worker_and_the_gateway_serve_metrics(stack: Stack) -> None:
    endpoints = stack.metrics_endpoints()
    assert set(endpoints) == {"gateway"} | {
        f"{s.spec.name}-{kind}" for s in stack.services for kind in ("api", "worker")
    }
    httpx.get(f"{stack.gateway_url}/api/v1/billing/plans", timeout=5)
    for name, url in endpoints.items():
        response = httpx.get(url, timeout=10)
        assert response.status_code == 200, name
        if name.endswith("-api"):
            assert "journey_http_requests_total" in response.text, name
        elif name.endswith("-worker"):
            assert "journey_consumer_pending_messages" in response.text, name
            assert "journey_outbox_backlog" in response.text, name
    billing_api = httpx.get(endpoints["billing-api"], timeout=10).text
    assert 'route="/api/v1/billing/plans"' in billing_api


def test_the_gateway_routes_no_metrics(stack: Stack) -> None:
    for path in ("/metrics", "/api/v1/profiler/metrics", "/api/v1/../metrics"):
        response = httpx.get(f"{stack.gateway_url}{path}", timeout=5)
        assert response.status_code in (401, 404), path
        assert "journey_http_requests_total" not in response.text
        assert "traefik_" not in response.text


def test_the_traefik_metrics_the_grafana_dashboard_plots_exist(stack: Stack) -> None:
    httpx.get(f"{stack.gateway_url}/api/v1/billing/plans", timeout=5)
    exposition = httpx.get(stack.metrics_endpoints()["gateway"], timeout=10).text
    exported = set(re.findall(r"^(traefik_[a-z_]+)", exposition, re.MULTILINE))
    panels = json.loads(DASHBOARD.read_text())["panels"]
    plotted = {
        name
        for panel in panels
        for target in panel.get("targets", [])
        for name in re.findall(r"\b(traefik_[a-z0-9_]+)\b", target["expr"])
    }
    assert plotted
    assert plotted <= exported, sorted(plotted - exported)
