"""deploy/k8s: each service's Deployments and Service, the Traefik routes and middlewares of
gateway/, the NATS configuration of deploy/nats, and prod's autoscalers and disruption budgets,
all from the service definitions (`python -m journey_local deploy-files`). The kustomizations,
the data tier and the network policies are written by hand beside them."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

from journey_local.compose_files import GATEWAY_VALUES
from journey_local.deploy_env import (
    ADMIN_SECRET,
    API_PORT,
    CONTAINER_METRICS_PORT,
    DATA_DIR,
    DATABASE,
    DATABASE_HOST,
    SECRETS,
    DatabaseUrl,
    Process,
    Secret,
    Setting,
    Value,
    all_secrets,
    dump_yaml,
    needs_files,
    process_env,
)
from journey_local.gateway_routes import STREAMING_PRIORITY, own_chain_paths, path_rule
from journey_local.nats import CONFIG_FILE as NATS_CONFIG
from journey_local.services import SERVICES, ServiceSpec
from journey_local.traefik import GATEWAY_DIR

HEADER = "# Generated from the service definitions by `python -m journey_local deploy-files`; do not edit.\n"
IMAGE = "journey"  # set per overlay with kustomize's `images:`
CONFIG_MAP = "journey-config"
UID = 10001  # the image's user
NATS_CLUSTER_SIZE = 3
ALERTS = Path(__file__).resolve().parents[3] / "observability" / "alerts.yml"
# What Prometheus scrapes on every API and worker container; the Services never expose it.
METRICS_CONTAINER_PORT = {"name": "metrics", "containerPort": CONTAINER_METRICS_PORT}


def labels(spec: ServiceSpec, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": spec.name, "app.kubernetes.io/component": component}


def _env(env: dict[str, Value]) -> list[dict[str, Any]]:
    """Container env; a database URL is composed by Kubernetes from the host setting and the
    role's password secret (`$(VAR)` expands variables defined before it)."""
    out: list[dict[str, Any]] = []
    defined: set[str] = set()

    def add(name: str, entry: dict[str, Any]) -> None:
        if name not in defined:
            defined.add(name)
            out.append({"name": name, **entry})

    def source(value: Secret | Setting) -> dict[str, Any]:
        if isinstance(value, Setting):
            return {"valueFrom": {"configMapKeyRef": {"name": CONFIG_MAP, "key": value.key}}}
        ref: dict[str, Any] = {"name": value.name, "key": value.key}
        if value.optional:
            ref["optional"] = True
        return {"valueFrom": {"secretKeyRef": ref}}

    for name, value in env.items():
        if isinstance(value, DatabaseUrl):
            password = "DB_PASSWORD_" + value.role.upper()
            add("DB_HOST", source(DATABASE_HOST))
            add(password, source(value.password))
            add(name, {"value": f"postgresql://{value.role}:$({password})@$(DB_HOST):5432/{DATABASE}"})
        elif isinstance(value, Secret | Setting):
            add(name, source(value))
        else:
            add(name, {"value": value})
    return out


CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
RESOURCES = {
    # From the benches: an API or worker process settles at 105-130 MB RSS (README, Benchmarks).
    "api": {"requests": {"cpu": "250m", "memory": "192Mi"}, "limits": {"cpu": "1", "memory": "384Mi"}},
    "worker": {"requests": {"cpu": "100m", "memory": "160Mi"}, "limits": {"cpu": "1", "memory": "320Mi"}},
    "init": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
}


def _container(spec: ServiceSpec, name: str, process: Process, args: list[str], resources: str) -> dict[str, Any]:
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    if needs_files(spec) and process in ("api", "worker"):
        mounts.append({"name": "files", "mountPath": DATA_DIR})
    return {
        "name": name,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "env": _env(process_env(spec, process)),
        "resources": RESOURCES[resources],
        "securityContext": CONTAINER_SECURITY,
        "volumeMounts": mounts,
    }


def _init_containers(spec: ServiceSpec) -> list[dict[str, Any]]:
    """Migrate (and seed) before the process starts: a new version's pod is never ready on an
    old schema. Both are idempotent and serialised per schema by an advisory lock (the kit's
    `schema_lock`), so replicas starting together queue; the admin URL exists only here."""
    steps = [_container(spec, "migrate", "migrate", [spec.name, "migrate"], "init")]
    if spec.seed is not None:
        steps.append(_container(spec, "seed", "seed", [spec.name, "seed"], "init"))
    return steps


def _pod(spec: ServiceSpec, component: str, container: dict[str, Any]) -> dict[str, Any]:
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    if needs_files(spec):
        volumes.append({"name": "files", "persistentVolumeClaim": {"claimName": f"{spec.name}-files"}})
    return {
        "metadata": {"labels": labels(spec, component)},
        "spec": {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,  # no injected *_PORT variables beside the settings
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": UID,
                "runAsGroup": UID,
                "fsGroup": UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "terminationGracePeriodSeconds": 30,
            # Replicas on different nodes where there are several (prod); one node is fine too (dev).
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": labels(spec, component)},
                }
            ],
            "initContainers": _init_containers(spec),
            "containers": [container],
            "volumes": volumes,
        },
    }


def _deployment(spec: ServiceSpec, component: str, container: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"{spec.name}-{component}", "labels": labels(spec, component)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels(spec, component)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": _pod(spec, component, container),
        },
    }


def service_objects(spec: ServiceSpec) -> list[dict[str, Any]]:
    api = _container(spec, "api", "api", [spec.name, "api", "--host", "0.0.0.0", "--port", str(API_PORT)], "api")
    api["ports"] = [{"name": "http", "containerPort": API_PORT}, METRICS_CONTAINER_PORT]
    api["startupProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 2, "failureThreshold": 30}
    api["livenessProbe"] = {
        "httpGet": {"path": "/healthz", "port": "http"},
        "periodSeconds": 10,
        "timeoutSeconds": 2,
        "failureThreshold": 3,
    }
    api["readinessProbe"] = {
        "httpGet": {"path": "/readyz", "port": "http"},
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 2,
    }
    # Out of the Service's endpoints before uvicorn stops accepting: no request lands on a closing pod.
    api["lifecycle"] = {"preStop": {"exec": {"command": ["sleep", "5"]}}}
    worker = _container(spec, "worker", "worker", [spec.name, "worker"], "worker")
    worker["ports"] = [METRICS_CONTAINER_PORT]
    worker["livenessProbe"] = {
        "exec": {"command": ["python", "-m", "servicekit.healthcheck", "-m", spec.name, "worker"]},
        "initialDelaySeconds": 20,
        "periodSeconds": 15,
        "timeoutSeconds": 5,
        "failureThreshold": 3,
    }
    objects: list[dict[str, Any]] = [
        _deployment(spec, "api", api),
        _deployment(spec, "worker", worker),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": f"{spec.name}-api", "labels": labels(spec, "api")},
            "spec": {
                "selector": labels(spec, "api"),
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        },
    ]
    if needs_files(spec):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": f"{spec.name}-files", "labels": labels(spec, "files")},
                "spec": {
                    # One writer node in dev; prod asks ReadWriteMany (API and worker pods on many nodes).
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "10Gi"}},
                },
            }
        )
    return objects


# --- the gateway ----------------------------------------------------------------------------


def gateway_middlewares() -> dict[str, Any]:
    """gateway/dynamic.yml's middlewares, with the values compose defaults to."""
    import yaml

    values = {name: default for name, (_var, default) in GATEWAY_VALUES.items()}
    dynamic = yaml.safe_load(Template((GATEWAY_DIR / "dynamic.yml").read_text()).substitute(values))
    middlewares: dict[str, Any] = dynamic["http"]["middlewares"]
    return middlewares


def _middleware_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The file provider's form → the Middleware CRD's: references become objects."""
    (kind, body), *rest = spec.items()
    assert not rest, spec
    if kind == "chain":
        return {"chain": {"middlewares": [{"name": name} for name in body["middlewares"]]}}
    if kind == "errors":
        service = {"name": body["service"], "kind": "TraefikService"}
        return {"errors": {**body, "service": service}}
    return {kind: body}


def gateway_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "traefik.io/v1alpha1",
            "kind": "Middleware",
            "metadata": {"name": name},
            "spec": _middleware_spec(spec),
        }
        for name, spec in gateway_middlewares().items()
    ]
    # The problem pages (any service serves them), balanced over every API as in gateway_routes.
    objects.append(
        {
            "apiVersion": "traefik.io/v1alpha1",
            "kind": "TraefikService",
            "metadata": {"name": "problem-pages"},
            "spec": {"weighted": {"services": [{"name": f"{s.name}-api", "port": 80, "weight": 1} for s in SERVICES]}},
        }
    )
    routes: list[dict[str, Any]] = []
    for spec in SERVICES:
        backend = [{"name": f"{spec.name}-api", "port": 80}]
        routes.append(
            {
                "kind": "Rule",
                "match": f"PathPrefix(`/api/v1/{spec.name}`)",
                "middlewares": [{"name": "journey"}],
                "services": backend,
            }
        )
        for _, path, chain in own_chain_paths(spec.streaming_paths, spec.own_429_paths):
            routes.append(
                {
                    "kind": "Rule",
                    "match": path_rule(f"/api/v1/{spec.name}{path}"),
                    "priority": STREAMING_PRIORITY,
                    "middlewares": [{"name": chain}],
                    "services": backend,
                }
            )
    objects.append(
        {
            "apiVersion": "traefik.io/v1alpha1",
            "kind": "IngressRoute",
            "metadata": {"name": "journey"},
            "spec": {"entryPoints": ["web"], "routes": routes},
        }
    )
    return objects


# --- monitoring (Prometheus Operator) ---------------------------------------------------------


def _pod_monitor(name: str, selector: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "journey"}},
        "spec": {
            "selector": selector,
            **extra,
            "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "15s"}],
        },
    }


def monitoring_objects() -> list[dict[str, Any]]:
    """components/monitoring: a PodMonitor per process kind (the same jobs as the local and compose
    scrape configurations), one for Traefik wherever it runs, and alerts.yml as a PrometheusRule."""
    import yaml

    objects = []
    for component in ("api", "worker"):
        endpoint = _pod_monitor(
            f"journey-{component}",
            {"matchLabels": {"app.kubernetes.io/part-of": "journey", "app.kubernetes.io/component": component}},
        )
        (scrape,) = endpoint["spec"]["podMetricsEndpoints"]
        # As in the scrape files: the processes' own `service` label wins, the pod's fills the gaps.
        scrape["honorLabels"] = True
        scrape["relabelings"] = [
            {"sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], "targetLabel": "service"}
        ]
        objects.append(endpoint)
    # Traefik is installed beside Journey (its Helm chart, k3s), in a namespace of its own; its chart
    # names the Prometheus entry point's container port `metrics` (9100).
    objects.append(
        _pod_monitor(
            "journey-gateway", {"matchLabels": {"app.kubernetes.io/name": "traefik"}}, namespaceSelector={"any": True}
        )
    )
    alerts = yaml.safe_load(ALERTS.read_text())
    objects.append(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "journey", "labels": {"app.kubernetes.io/part-of": "journey"}},
            "spec": {"groups": alerts["groups"]},
        }
    )
    return objects


# --- NATS -----------------------------------------------------------------------------------


def nats_cluster_config() -> str:
    """deploy/nats/nats.conf plus the cluster block of a 3-node StatefulSet (stable pod names)."""
    routes = "\n".join(f"    nats://nats-{i}.nats-headless:6222" for i in range(NATS_CLUSTER_SIZE))
    return (
        NATS_CONFIG.read_text()
        + f"""
# A {NATS_CLUSTER_SIZE}-node JetStream cluster (deploy/k8s/prod): streams at JETSTREAM_REPLICAS=3
# keep three copies, and an acknowledgement means a quorum has the event on disk.
server_name: $POD_NAME
cluster {{
  name: journey
  listen: 0.0.0.0:6222
  routes: [
{routes}
  ]
}}
"""
    )


# --- prod scaling ---------------------------------------------------------------------------


def scaling_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for spec in SERVICES:
        objects.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": f"{spec.name}-api"},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{spec.name}-api"},
                    "minReplicas": 3,
                    "maxReplicas": 12,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                        }
                    ],
                },
            }
        )
        for component in ("api", "worker"):
            objects.append(
                {
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": {"name": f"{spec.name}-{component}"},
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(spec, component)}},
                }
            )
    return objects


def _documents(objects: list[dict[str, Any]]) -> str:
    return HEADER + dump_yaml(objects)


def dev_secret_files(values: dict[str, str] | None = None) -> dict[str, str]:
    """dev/'s secret env files (kustomize secretGenerator): with `values` (by compose variable
    name) filled in, otherwise the committed examples."""
    filled = values or {}
    app = [s for s in all_secrets() if s.name == SECRETS]
    admin = next(s for s in all_secrets() if s.name == ADMIN_SECRET)

    def optional(secret: Secret) -> bool:
        # dev signs its own tokens (HS256), so its JWT secret is required there.
        return secret.optional and secret.key != "jwt-secret" and secret.variable not in filled

    def line(secret: Secret) -> str:
        return f"{secret.key}={filled.get(secret.variable, '' if optional(secret) else 'CHANGE_ME')}"

    secrets_env = [line(s) for s in app if not optional(s)]
    optional_lines = [line(s) for s in app if optional(s)]
    if optional_lines:
        secrets_env += ["# optional: empty turns it off", *optional_lines]
    return {
        "secrets.env": "\n".join(secrets_env) + "\n",
        "db-admin.env": f"username=postgres\n{line(admin)}\n",
    }


def files() -> dict[str, str]:
    examples = {f"dev/{name}.example": HEADER + text for name, text in dev_secret_files().items()}
    return {
        **examples,
        "base/services.yaml": _documents([o for spec in SERVICES for o in service_objects(spec)]),
        "base/gateway.yaml": _documents(gateway_objects()),
        "base/nats.conf": NATS_CONFIG.read_text(),
        "prod/nats.conf": nats_cluster_config(),
        "prod/scaling.yaml": _documents(scaling_objects()),
        "components/monitoring/monitoring.yaml": _documents(monitoring_objects()),
    }
