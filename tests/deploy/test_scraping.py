"""Where Prometheus scrapes the deployments, offline: every API and worker serves its metrics on
the port its container declares (read through the service's settings class, as the process
does), nothing publishes or routes that port, and each scrape configuration (compose, the
Prometheus Operator's PodMonitors, plain Kubernetes service discovery) finds exactly those
processes and Traefik's metrics entry point."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from journey_local.compose_files import GATEWAY_METRICS_PORT
from journey_local.deploy_env import CONTAINER_METRICS_PORT, metrics_variable
from journey_local.services import SERVICES, ServiceSpec
from servicekit.observability import metrics_address

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
OBSERVABILITY = ROOT / "deploy" / "observability"
PROCESSES: tuple[Literal["api", "worker"], ...] = ("api", "worker")
MONITORING = "monitoring.coreos.com/v1"
Objects = list[dict[str, Any]]


def by_kind(objects: Objects, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def served_at(monkeypatch: pytest.MonkeyPatch, spec: ServiceSpec, process: str, env: dict[str, str]) -> Any:
    """Where the process would serve `/metrics` given the metrics variables of its container."""
    with monkeypatch.context() as patch:
        for name in ("METRICS_PORT", "WORKER_METRICS_PORT", "METRICS_HOST"):
            patch.delenv(name, raising=False)
        for name, value in env.items():
            if "METRICS" in name:
                patch.setenv(name, value)
        patch.setenv("ENVIRONMENT", "development")
        patch.setenv("JWT_SECRET", "x" * 32)
        settings = spec.settings_class(_env_file=None)
        return metrics_address(settings, worker=process == "worker")


# --- compose --------------------------------------------------------------------------------


def test_every_compose_process_serves_metrics_on_its_exposed_port_only(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    for spec in SERVICES:
        for process in PROCESSES:
            name = f"{spec.name}-{process}"
            service = services[name]
            env = service["environment"]
            assert metrics_variable(process) in env, name
            # The process reads the port its container exposes, on every interface of the container.
            exposed = [int(port) for port in service["expose"]]
            assert served_at(monkeypatch, spec, process, env) == ("0.0.0.0", CONTAINER_METRICS_PORT), name
            assert exposed == [CONTAINER_METRICS_PORT], name
            # Never published on the host (only Traefik's entry point and, by profile, Prometheus are).
            assert "ports" not in service, name
    traefik = services["traefik"]
    assert traefik["ports"] == ["${GATEWAY_PORT:-8080}:8080"]
    assert [int(port) for port in traefik["expose"]] == [GATEWAY_METRICS_PORT]
    static = yaml.safe_load((COMPOSE_DIR / "gateway" / "traefik.yml").read_text())
    assert static["entryPoints"]["metrics"]["address"] == f":{GATEWAY_METRICS_PORT}"
    assert static["metrics"]["prometheus"]["entryPoint"] == "metrics"


def test_the_compose_gateway_never_routes_a_metrics_port() -> None:
    routes = yaml.safe_load((COMPOSE_DIR / "gateway" / "dynamic" / "routes.yml").read_text())
    urls = [server["url"] for s in routes["http"]["services"].values() for server in s["loadBalancer"]["servers"]]
    assert urls, "no route to check"
    for url in urls:
        assert int(url.rsplit(":", 1)[1]) != CONTAINER_METRICS_PORT, url
    # No router of the dynamic configuration is bound to the metrics entry point.
    routers = routes["http"]["routers"].values()
    assert all(router.get("entryPoints", ["web"]) == ["web"] for router in routers)


def test_the_compose_scrape_config_targets_every_process_where_it_serves(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    scrape = yaml.safe_load((OBSERVABILITY / "prometheus-compose.yml").read_text())
    targets = {
        (job["job_name"], group.get("labels", {}).get("service")): target
        for job in scrape["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    expected: dict[tuple[str, str | None], str] = {("gateway", None): f"traefik:{GATEWAY_METRICS_PORT}"}
    for spec in SERVICES:
        for process in PROCESSES:
            expected[(f"journey-{process}", spec.name)] = f"{spec.name}-{process}:{CONTAINER_METRICS_PORT}"
    assert targets == expected
    for target in targets.values():
        host, port = target.rsplit(":", 1)
        assert host in services, f"{target}: no compose service {host}"
        assert port in services[host]["expose"], f"{target}: {host} does not expose {port}"
        if host != "traefik":  # and the process behind it listens there
            spec = next(s for s in SERVICES if host.startswith(f"{s.name}-"))
            process = host.removeprefix(f"{spec.name}-")
            assert served_at(monkeypatch, spec, process, services[host]["environment"])[1] == int(port)
    assert scrape["rule_files"] == ["alerts.yml"]


def test_compose_runs_prometheus_with_that_config_and_the_alerts_on_request(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    assert prometheus["profiles"] == ["observability"]  # `docker compose up` alone does not start it
    assert all(port.startswith("127.0.0.1:") for port in prometheus["ports"]), "loopback only"
    mounts = {
        target.removesuffix(":ro"): (COMPOSE_DIR / source).resolve()
        for source, target in (volume.split(":", 1) for volume in prometheus["volumes"])
        if source.startswith(".")
    }
    config_flag = next(arg for arg in prometheus["command"] if arg.startswith("--config.file="))
    config_path = config_flag.split("=", 1)[1]
    assert mounts[config_path] == OBSERVABILITY / "prometheus-compose.yml"
    # rule_files are relative to the config file: each is mounted beside it.
    config = yaml.safe_load(mounts[config_path].read_text())
    for rule_file in config["rule_files"]:
        beside = str(Path(config_path).parent / rule_file)
        assert mounts[beside] == OBSERVABILITY / rule_file
        assert yaml.safe_load(mounts[beside].read_text())["groups"]


# --- Kubernetes -----------------------------------------------------------------------------


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against a pod's labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True


def workloads(objects: Objects) -> dict[str, dict[str, Any]]:
    """Every pod template of the overlay by its workload."""
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet")
    }


def declared_ports(template: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_k8s_process_serves_metrics_on_its_named_port(
    overlays: dict[str, Objects], overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = overlays[overlay]
    deployments = by_kind(objects, "Deployment")
    for spec in SERVICES:
        for process in PROCESSES:
            (container,) = deployments[f"{spec.name}-{process}"]["spec"]["template"]["spec"]["containers"]
            env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert served_at(monkeypatch, spec, process, env) == ("0.0.0.0", ports["metrics"]), spec.name
    # The Services (what the ingress routes to) carry the HTTP port only.
    for service in by_kind(objects, "Service").values():
        for port in service["spec"]["ports"]:
            assert port.get("targetPort") != "metrics", service
            assert port["port"] != CONTAINER_METRICS_PORT, service


def _pod_monitors(objects: Objects) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["apiVersion"] == MONITORING and o["kind"] == "PodMonitor"}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_pod_monitor_selects_workloads_that_declare_its_port(overlays: dict[str, Objects], overlay: str) -> None:
    objects = overlays[overlay]
    monitors = _pod_monitors(objects)
    if overlay == "prod":
        assert set(monitors) == {"journey-api", "journey-worker", "journey-gateway"}
    else:  # dev clusters rarely run the Operator: the component is opt-in there
        assert not monitors
    templates = workloads(objects)
    scraped: set[str] = set()
    for name, monitor in monitors.items():
        spec = monitor["spec"]
        ports = {endpoint["port"] for endpoint in spec["podMetricsEndpoints"]}
        if spec.get("namespaceSelector") == {"any": True}:
            # Traefik runs outside the overlay (its Helm chart, k3s): selected by the label the
            # APIs' NetworkPolicy admits it by, on the port name its chart gives the metrics entry point.
            policy = by_kind(objects, "NetworkPolicy")["api-from-gateway"]["spec"]
            (peer,) = policy["ingress"][0]["from"]
            assert spec["selector"] == peer["podSelector"], name
            assert ports == {"metrics"}, name
            continue
        assert "namespaceSelector" not in spec, f"{name}: Journey's pods are in the PodMonitor's namespace"
        selected = {w: t for w, t in templates.items() if _matches(spec["selector"], t["metadata"]["labels"])}
        assert selected, f"{name} selects no workload of {overlay}"
        for workload, template in selected.items():
            assert ports <= set(declared_ports(template)), f"{name}: {workload} declares no port {ports}"
        scraped |= set(selected)
    if monitors:
        # And every workload that declares a metrics port is scraped.
        assert scraped == {w for w, t in templates.items() if "metrics" in declared_ports(t)}
        (rule,) = by_kind(objects, "PrometheusRule").values()
        assert rule["spec"] == yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_only_prometheus_reaches_the_metrics_ports(overlays: dict[str, Objects], overlay: str) -> None:
    objects = overlays[overlay]
    policies = by_kind(objects, "NetworkPolicy")
    templates = workloads(objects)
    with_metrics = {w for w, t in templates.items() if "metrics" in declared_ports(t)}
    opening = {
        name: policy["spec"]
        for name, policy in policies.items()
        for rule in policy["spec"].get("ingress", [])
        if {port["port"] for port in rule.get("ports", [])} & {"metrics", CONTAINER_METRICS_PORT}
    }
    assert set(opening) == {"metrics-from-prometheus"}
    policy = opening["metrics-from-prometheus"]
    selected = {w for w, t in templates.items() if _matches(policy["podSelector"], t["metadata"]["labels"])}
    assert selected == with_metrics
    (rule,) = policy["ingress"]
    assert rule["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert rule["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
        }
    ]


def _relabel(config: list[dict[str, Any]], meta: dict[str, str]) -> dict[str, str] | None:
    """Prometheus' relabelling (the keep and replace actions this project uses) of one target."""
    labels = dict(meta)
    for step in config:
        value = step.get("separator", ";").join(labels.get(name, "") for name in step["source_labels"])
        match = re.fullmatch(step.get("regex", "(.*)"), value)
        action = step.get("action", "replace")
        if action == "keep":
            if match is None:
                return None
        elif action == "replace":
            if match is not None:
                labels[step["target_label"]] = match.expand(step.get("replacement", "$1").replace("$", "\\"))
        else:
            raise AssertionError(f"relabel action {action} not simulated")
    return labels


def _meta(namespace: str, template: dict[str, Any], pod: str) -> list[dict[str, str]]:
    """The pod role's discovery labels, one target per declared container port."""
    pod_labels = {
        "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", k): v
        for k, v in template["metadata"]["labels"].items()
    }
    return [
        {
            "__meta_kubernetes_namespace": namespace,
            "__meta_kubernetes_pod_name": pod,
            "__meta_kubernetes_pod_container_port_name": port_name,
            "__meta_kubernetes_pod_container_port_number": str(number),
            **pod_labels,
        }
        for port_name, number in declared_ports(template).items()
    ]


def test_the_plain_kubernetes_scrape_config_finds_the_overlays_processes(overlays: dict[str, Objects]) -> None:
    scrape = yaml.safe_load((OBSERVABILITY / "prometheus-kubernetes.yml").read_text())
    assert scrape["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in scrape["scrape_configs"]}
    traefik = {"metadata": {"labels": {"app.kubernetes.io/name": "traefik"}},
               "spec": {"containers": [{"ports": [{"name": "web", "containerPort": 8000},
                                                  {"name": "metrics", "containerPort": 9100}]}]}}  # fmt: skip
    for overlay, objects in overlays.items():
        candidates = [
            (workload, meta)
            for workload, template in workloads(objects).items()
            for meta in _meta("journey", template, workload.split("/")[1] + "-0")
        ] + [("Deployment/traefik", meta) for meta in _meta("traefik", traefik, "traefik-0")]
        found: dict[tuple[str, str], dict[str, str]] = {}
        for name, job in jobs.items():
            namespaces = job["kubernetes_sd_configs"][0].get("namespaces", {}).get("names")
            for workload, meta in candidates:
                if namespaces and meta["__meta_kubernetes_namespace"] not in namespaces:
                    continue
                if (labels := _relabel(job["relabel_configs"], meta)) is not None:
                    assert (name, workload) not in found, f"{name} scrapes {workload} twice"
                    found[(name, workload)] = labels
        expected = {("gateway", "Deployment/traefik")}
        for spec in SERVICES:
            for process in PROCESSES:
                expected.add((f"journey-{process}", f"Deployment/{spec.name}-{process}"))
        assert set(found) == expected, overlay
        for (name, workload), labels in found.items():
            assert labels["__meta_kubernetes_pod_container_port_name"] == "metrics"
            if name != "gateway":
                assert labels["__meta_kubernetes_pod_container_port_number"] == str(CONTAINER_METRICS_PORT)
                assert labels["service"] == workload.split("/")[1].rsplit("-", 1)[0]
                assert jobs[name]["honor_labels"] is True
