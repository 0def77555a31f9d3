"""The container healthcheck of every service image: `python -m servicekit.healthcheck`.

One image runs every process (`python -m <svc> api|worker|migrate`), so the check reads which
one is PID 1 (`/proc/1/cmdline`) unless told: the API must answer `/healthz` on its port; a
worker must have touched its heartbeat file (WORKER_HEARTBEAT_FILE) recently, which it does from
its event loop; a one-shot command (migrate, seed) is healthy while it runs. Standard library
only: it runs every few seconds and must stay cheap (no curl in the image)."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

DEFAULT_PORT = 8000


def role_of(argv: Sequence[str]) -> tuple[str, int]:
    """('api', port), ('worker', 0) or ('other', 0) from a `python -m <svc> ...` command line."""
    args = list(argv)
    if "-m" in args:
        args = args[args.index("-m") + 2 :]
    if not args:
        return "other", 0
    if args[0] == "api":
        port = DEFAULT_PORT
        for index, arg in enumerate(args):
            if arg == "--port" and index + 1 < len(args):
                port = int(args[index + 1])
            elif arg.startswith("--port="):
                port = int(arg.split("=", 1)[1])
        return "api", port
    return ("worker", 0) if args[0] == "worker" else ("other", 0)


def api_healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def worker_healthy(heartbeat: Path | None, interval: float, now: float | None = None) -> bool:
    """Fresh within three intervals (and never less than 30 s: a long GC or a busy machine is not death)."""
    if heartbeat is None:
        return True  # no heartbeat asked for: nothing to judge by
    try:
        age = (time.time() if now is None else now) - heartbeat.stat().st_mtime
    except FileNotFoundError:
        return False
    return age <= max(30.0, 3 * interval)


def check(argv: Sequence[str], env: dict[str, str]) -> bool:
    role, port = role_of(argv)
    if role == "api":
        return api_healthy(port)
    if role == "worker":
        file = env.get("WORKER_HEARTBEAT_FILE")
        return worker_healthy(Path(file) if file else None, float(env.get("WORKER_HEARTBEAT_SECONDS", "5")))
    return True


def main() -> None:
    argv = sys.argv[1:] or Path("/proc/1/cmdline").read_bytes().decode().split("\0")[:-1]
    raise SystemExit(0 if check(argv, dict(os.environ)) else 1)


if __name__ == "__main__":
    main()
