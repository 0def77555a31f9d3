"""The local stack's metrics ports, the scrape configuration that names them, and Traefik's
metrics entry point and tracing, as the launcher renders them."""

from __future__ import annotations

from pathlib import Path

import yaml

from journey_local.services import SERVICES
from journey_local.stack import StackConfig
from journey_local.traefik import EmbeddedTraefik, tracing_block

ROOT = Path(__file__).resolve().parents[2]


def test_the_local_scrape_config_names_every_process_make_run_starts(tmp_path: Path) -> None:
    config = StackConfig(data_dir=tmp_path)
    scrape = yaml.safe_load((ROOT / "deploy" / "observability" / "prometheus-local.yml").read_text())
    targets = {
        (job["job_name"], group.get("labels", {}).get("service")): target
        for job in scrape["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    expected: dict[tuple[str, str | None], str] = {("gateway", None): f"127.0.0.1:{config.gateway_metrics_port}"}
    for spec in SERVICES:
        api, worker = config.metrics_ports[spec.name]
        expected[("journey-api", spec.name)] = f"127.0.0.1:{api}"
        expected[("journey-worker", spec.name)] = f"127.0.0.1:{worker}"
    assert targets == expected
    assert scrape["rule_files"] == ["alerts.yml"]
    # Never a port the gateway routes to.
    routed = {config.gateway_port, *config.service_ports.values()}
    assert not routed & {int(t.rsplit(":", 1)[1]) for t in targets.values()}


def test_traefik_serves_metrics_on_an_entry_point_no_router_uses(tmp_path: Path) -> None:
    traefik = EmbeddedTraefik(tmp_path, 8080, 8082, {"RATE_AVERAGE": "1", "RATE_BURST": "1", "MAX_BODY_BYTES": "1"}, {})
    static = yaml.safe_load(traefik._render().read_text())
    assert static["entryPoints"]["metrics"]["address"] == "127.0.0.1:8082"
    assert static["metrics"]["prometheus"]["entryPoint"] == "metrics"
    assert "tracing" not in static  # no endpoint in this test's environment
    assert traefik.metrics_url == "http://127.0.0.1:8082/metrics"


def test_traefik_traces_to_the_services_otlp_endpoint_when_one_is_set() -> None:
    assert tracing_block({}) == ""
    block = yaml.safe_load(tracing_block({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}))
    assert block["tracing"]["otlp"]["http"]["endpoint"] == "http://collector:4318/v1/traces"
    assert block["tracing"]["serviceName"] == "journey-gateway"
    explicit = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b/t"}
    assert yaml.safe_load(tracing_block(explicit))["tracing"]["otlp"]["http"]["endpoint"] == "http://b/t"
