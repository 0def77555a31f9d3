"""The generated part of deploy/ (compose, Kubernetes, the compose scrape configuration), written
or checked in one place: `python -m journey_local deploy-files` after changing a service
definition, gateway/, deploy/nats or the alert rules; tests/deploy fails while the committed
files differ from what this renders."""

from __future__ import annotations

import os
from pathlib import Path

from journey_local import compose_files, k8s_files
from journey_local.dev_secrets import DevSecrets

DEPLOY_DIR = Path(__file__).resolve().parents[3]


def rendered() -> dict[Path, str]:
    return {
        **{DEPLOY_DIR / "compose" / name: text for name, text in compose_files.files().items()},
        **{DEPLOY_DIR / "k8s" / name: text for name, text in k8s_files.files().items()},
        DEPLOY_DIR / "observability" / compose_files.PROMETHEUS_CONFIG: compose_files.scrape_config_file(),
    }


def stale() -> list[Path]:
    """Generated files whose committed text differs from what the definitions render now."""
    return [path for path, text in rendered().items() if not path.exists() or path.read_text() != text]


def write() -> list[Path]:
    changed = stale()
    for path, text in rendered().items():
        if path in changed:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return changed


def write_secret_files(data_dir: Path) -> list[Path]:
    """deploy/compose/.env and deploy/k8s/dev's secret files, each only where missing (an existing
    one is kept: its passwords are already in the database volumes). The same values in both,
    and the local stack's development JWT secret, so `make token` works against either."""
    values = compose_files.secret_values(DevSecrets.load_or_create(data_dir))
    wanted = {DEPLOY_DIR / "compose" / ".env": compose_files.env_file(values)}
    for name, text in k8s_files.dev_secret_files(values).items():
        wanted[DEPLOY_DIR / "k8s" / "dev" / name] = text
    written = []
    for path, text in wanted.items():
        if path.exists():
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        written.append(path)
    return written
