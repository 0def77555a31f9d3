"""What each process of each service is given, once, for every deployment target: compose
(`deploy/compose`) and Kubernetes (`deploy/k8s`) render the same model, the way the local
stack's `services.service_env` gives it to processes on one machine.

A value is a literal, a secret (by key), a deployment-wide setting (by key) or a database URL
(a role and the secret holding its password). Variables are named after the service's settings
fields, so a variable a service would ignore is a test failure (tests/deploy)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from journey_local.services import ServiceSpec
from servicekit.migrations import role_names

Process = Literal["api", "worker", "migrate", "seed"]

DATABASE = "journey"
API_PORT = 8000
# Every API and worker container serves its Prometheus metrics here (servicekit.metrics), on every
# interface of its own network namespace: Prometheus scrapes it over the compose network or the
# pod network, and nothing publishes or routes it (docs/operations.md, Where to scrape).
CONTAINER_METRICS_PORT = 9100
NATS_URL = "nats://nats:4222"  # the compose service and the Kubernetes Service share the name
DATA_DIR = "/var/lib/journey"  # a volume, where a service keeps files (missions' submissions)
HEARTBEAT_FILE = "/tmp/journey-worker.heartbeat"  # /tmp is a tmpfs / emptyDir: the root is read-only
SECRETS = "journey-secrets"  # the application's secrets: JWT, Stripe, OpenAI, role passwords
ADMIN_SECRET = "journey-db-admin"  # the PostgreSQL superuser (CloudNativePG's superuserSecret in prod)


@dataclass(frozen=True)
class Secret:
    key: str
    name: str = SECRETS
    optional: bool = False  # absent means the feature is off (Stripe without a key: the local provider)

    @property
    def variable(self) -> str:
        """Its name in compose's env file."""
        return ("POSTGRES_PASSWORD" if self.name == ADMIN_SECRET else self.key).upper().replace("-", "_")


@dataclass(frozen=True)
class Setting:
    key: str  # a key of the `journey-config` ConfigMap; its compose variable is the upper-case name
    compose_default: str

    @property
    def variable(self) -> str:
        return self.key.upper().replace("-", "_")


@dataclass(frozen=True)
class DatabaseUrl:
    role: str
    password: Secret


Value = str | Secret | Setting | DatabaseUrl

ENVIRONMENT = Setting("environment", "development")
DATABASE_HOST = Setting("database-host", "postgres")
ADMIN_URL = DatabaseUrl("postgres", Secret("password", name=ADMIN_SECRET))


def role_password(role: str) -> Secret:
    return Secret(f"{role.replace('_', '-')}-db-password")


def role_url(role: str) -> DatabaseUrl:
    return DatabaseUrl(role, role_password(role))


def login_roles(spec: ServiceSpec) -> list[str]:
    roles = role_names(spec.schema, system=spec.system_role)
    return [role for kind, role in roles.items() if kind != "owner"]


def _database_urls(spec: ServiceSpec) -> dict[str, Value]:
    roles = role_names(spec.schema, system=spec.system_role)
    urls: dict[str, Value] = {
        "DATABASE_URL": role_url(roles["app"]),
        "WORKER_DATABASE_URL": role_url(roles["worker"]),
    }
    if spec.system_role:
        urls["SYSTEM_DATABASE_URL"] = role_url(roles["system"])
    return urls


def _settings_env(spec: ServiceSpec) -> dict[str, Value]:
    """What the API, the worker and a seed read through the service's settings class."""
    fields: dict[str, Any] = spec.settings_class.model_fields
    env: dict[str, Value] = {
        "ENVIRONMENT": ENVIRONMENT,
        "LOG_LEVEL": Setting("log-level", "INFO"),
        **_database_urls(spec),
        "NATS_URL": NATS_URL,
        "JWT_ALGORITHM": Setting("jwt-algorithm", "HS256"),
        "JWKS_URL": Setting("jwks-url", ""),
        "JWT_SECRET": Secret("jwt-secret", optional=True),  # HS256 outside production only
        "AI_PROVIDER": Setting("ai-provider", "offline"),
        "OPENAI_API_KEY": Secret("openai-api-key", optional=True),
    }
    # What only some services have, by the field that reads it.
    if "public_base_url" in fields:
        env["PUBLIC_BASE_URL"] = Setting("public-base-url", "http://localhost:8080")
    if "stripe_webhook_secret" in fields:
        env["STRIPE_WEBHOOK_SECRET"] = Secret("stripe-webhook-secret")
    if "stripe_secret_key" in fields:
        env["STRIPE_SECRET_KEY"] = Secret("stripe-secret-key", optional=True)
    if "data_dir" in fields:
        env["DATA_DIR"] = DATA_DIR
    return env


# What the kit's CLI reads itself, outside the settings class (`python -m <svc> migrate|seed`).
CLI_VARIABLES = frozenset({"ADMIN_DATABASE_URL"})


def settings_variables(spec: ServiceSpec) -> set[str]:
    """The environment variables a service's settings class reads (pydantic-settings: the
    field's name, case-insensitive)."""
    return {name.upper() for name in spec.settings_class.model_fields}


def needs_files(spec: ServiceSpec) -> bool:
    """A service that keeps files (a `data_dir` setting) gets a volume shared by its API and worker."""
    return "data_dir" in spec.settings_class.model_fields


def process_env(spec: ServiceSpec, process: Process) -> dict[str, Value]:
    if process == "migrate":
        # The admin URL, and each role's URL only for its password (migrate sets it on the role).
        return {"ADMIN_DATABASE_URL": ADMIN_URL, **_database_urls(spec)}
    env = _settings_env(spec)
    if process == "seed":
        return {"ADMIN_DATABASE_URL": ADMIN_URL, **env}
    env[metrics_variable(process)] = str(CONTAINER_METRICS_PORT)
    env["METRICS_HOST"] = "0.0.0.0"
    if process == "worker":
        env["WORKER_HEARTBEAT_FILE"] = HEARTBEAT_FILE
        env["JETSTREAM_REPLICAS"] = Setting("jetstream-replicas", "1")
    return env


def metrics_variable(process: Literal["api", "worker"]) -> str:
    """The setting that gives a process its metrics port (servicekit.observability)."""
    return "WORKER_METRICS_PORT" if process == "worker" else "METRICS_PORT"


def dump_yaml(documents: list[Any]) -> str:
    """YAML for people to read: keys in the order written, no anchors."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump_all(documents, Dumper=Dumper, sort_keys=False, width=200)


def all_secrets() -> list[Secret]:
    """Every secret any process of any service reads, in a stable order (the env example's)."""
    from journey_local.services import SERVICES

    found: dict[tuple[str, str], Secret] = {}
    for spec in SERVICES:
        for process in ("migrate", "seed", "api", "worker"):
            for value in process_env(spec, process).values():
                secret = value.password if isinstance(value, DatabaseUrl) else value
                if isinstance(secret, Secret):
                    found.setdefault((secret.name, secret.key), secret)
    return sorted(found.values(), key=lambda s: (s.name != ADMIN_SECRET, s.optional, s.key))


def all_settings() -> list[Setting]:
    from journey_local.services import SERVICES

    found = {DATABASE_HOST.key: DATABASE_HOST}
    for spec in SERVICES:
        for process in ("seed", "api", "worker"):
            for value in process_env(spec, process).values():
                if isinstance(value, Setting):
                    found.setdefault(value.key, value)
    return sorted(found.values(), key=lambda s: s.key)
