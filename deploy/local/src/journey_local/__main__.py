"""`python -m journey_local run` (make run) and `python -m journey_local token NAME` (make token)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from journey_local.dev_secrets import FILE_NAME, DevSecrets
from journey_local.stack import Stack, StackConfig
from servicekit.auth import dev_user_id


def run(data_dir: Path) -> None:
    stack = Stack(StackConfig.from_env(data_dir))
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print("starting PostgreSQL, NATS JetStream, services and Traefik ...", flush=True)
    try:
        stack.start()
    except RuntimeError as exc:
        raise SystemExit(f"cannot start: {exc}") from None
    gw = stack.gateway_url
    token = stack.secrets.mint_token("student")
    scrape = "\n".join(f"  {name:<18} {url}" for name, url in stack.metrics_endpoints().items())
    tracing = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    print(
        f"""
Journey is running.
  open:      {gw}/            (the web app: sign in with any name)
  gateway:   {gw}
  data:      {data_dir.resolve()}   (kept across restarts)
  logs:      {data_dir.resolve() / "logs"}
  user:      student ({dev_user_id("student")})
  token:     {token}

Try it:
  export TOKEN={token}
  curl -s -H "Authorization: Bearer $TOKEN" {gw}/api/v1/profiler/questions
  curl -s {gw}/api/v1/billing/plans
  API docs: {gw}/api/v1/profiler/docs  and  {gw}/api/v1/billing/docs
  The README walks through a whole profiler journey and an upgrade with curl.

Prometheus metrics (one port per process, never routed by the gateway; scrape config in
deploy/observability/prometheus-local.yml, what each means in docs/operations.md):
{scrape}
Traces: {f"OTLP to {tracing}" if tracing else "off (set OTEL_EXPORTER_OTLP_ENDPOINT to export them)"}

Ctrl-C stops everything.
""",
        flush=True,
    )
    try:
        while True:
            time.sleep(1)
            for line in stack.supervise():
                print(f"{line}; restarted (logs in {data_dir / 'logs'})", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping ...", flush=True)
        stack.stop()
        print("stopped; data kept in", data_dir.resolve(), flush=True)


def service_command(data_dir: Path, service: str, command: str) -> int:
    """`python -m <service> <command>` against the local stack of `data_dir` (it must be running):
    the same environment the stack gives that service's processes."""
    import os
    import subprocess

    stack = Stack(StackConfig.from_env(data_dir))
    chosen = [s for s in stack.services if s.spec.name == service]
    if not chosen:
        raise SystemExit(f"no service {service!r}; installed: {', '.join(s.spec.name for s in stack.services)}")
    return subprocess.run([sys.executable, "-m", service, command], env={**os.environ, **chosen[0].env}).returncode


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="journey_local")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start the whole stack")
    run_parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    token_parser = sub.add_parser("token", help="print a development token for USER")
    token_parser.add_argument("user")
    token_parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    command_parser = sub.add_parser("command", help="run `python -m SERVICE COMMAND` against the running stack")
    command_parser.add_argument("service")
    command_parser.add_argument("service_command", metavar="command")
    command_parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    sub.add_parser("events-doc", help="regenerate the event catalogue in docs/events.md")
    sub.add_parser("import-contracts", help="print import-linter's contracts for every service and lib")
    sub.add_parser("deploy-files", help="regenerate deploy/compose and deploy/k8s from the service definitions")
    env_parser = sub.add_parser(
        "deploy-secrets", help="write deploy/compose/.env and deploy/k8s/dev's secret files where missing"
    )
    env_parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.data_dir)
    elif args.command == "command":
        raise SystemExit(service_command(args.data_dir, args.service, args.service_command))
    elif args.command == "import-contracts":
        from journey_local import import_contracts

        print(import_contracts.render(), end="")
    elif args.command == "deploy-files":
        from journey_local import deploy_files

        changed = deploy_files.write()
        print("\n".join(f"updated {p.relative_to(deploy_files.DEPLOY_DIR.parent)}" for p in changed) or "all current")
    elif args.command == "deploy-secrets":
        from journey_local import deploy_files

        written = deploy_files.write_secret_files(args.data_dir)
        root = deploy_files.DEPLOY_DIR.parent
        print("\n".join(f"wrote {p.relative_to(root)}" for p in written) or "all present (kept)")
    elif args.command == "events-doc":
        from journey_local import event_catalogue

        print("docs/events.md " + ("updated" if event_catalogue.write() else "already current"))
    else:
        try:
            secrets = DevSecrets.read(args.data_dir)
        except FileNotFoundError:
            raise SystemExit(
                f"no {FILE_NAME} in {args.data_dir}: start the stack once with `make run`, which generates it"
            ) from None
        print(f"user {args.user} = {dev_user_id(args.user)}", file=sys.stderr)
        print(secrets.mint_token(args.user))


if __name__ == "__main__":
    main()
