"""The compiled load generator every bench uses: `wrk` (Debian package `wrk`). A Python client
tops out near 500 requests/s on this machine and would set the pace instead of the server.

    result = run_wrk(url, seconds=10, connections=32, tokens=[...])
    result.rps, result.p50_ms, result.p99_ms, result.client_cpu_percent
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "wrk is not installed: `sudo apt-get install -y wrk` (Debian/Ubuntu), then run the bench again"

# Rotates bearer tokens per request (one user per token; with paths, each token's own path) and
# prints the summary as JSON.
_SCRIPT = """
local tokens = {%(tokens)s}
local paths = {%(paths)s}
local i = 0
wrk.method = "%(method)s"
%(body)s
request = function()
  i = i + 1
  local headers = {["Content-Type"] = "application/json"}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[(i %% #tokens) + 1] end
  local path = nil
  if #paths > 0 then path = paths[(i %% #paths) + 1] end
  return wrk.format(nil, path, headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nWRK_JSON {"requests":%%d,"duration_us":%%d,"socket_errors":%%d,"non2xx":%%d,' ..
    '"p50_us":%%d,"p90_us":%%d,"p99_us":%%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    socket_errors: int
    non2xx: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    client_cpu_percent: float  # 100 = one core busy: near it, the client set the pace

    @property
    def rps(self) -> float:
        """Successful (2xx) requests per second."""
        return (self.requests - self.non2xx) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        return (
            f"{self.rps:9.1f} req/s  p50/p90/p99 {self.p50_ms:.1f}/{self.p90_ms:.1f}/{self.p99_ms:.1f} ms  "
            f"non-2xx {self.non2xx}  socket errors {self.socket_errors}  wrk CPU {self.client_cpu_percent:.0f}%"
        )


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(INSTALL_HINT)
    return path


def run_wrk(
    url: str,
    *,
    seconds: float,
    connections: int = 32,
    threads: int = 2,
    tokens: list[str] | None = None,
    method: str = "GET",
    body: str | None = None,
    paths: list[str] | None = None,
) -> WrkResult:
    """One wrk run against `url`; raises if wrk fails or prints no summary. With `paths` (as many
    as `tokens`), request i goes to paths[i] with tokens[i] instead of to `url`'s path."""
    binary = require_wrk()
    if paths and len(paths) != len(tokens or []):
        raise ValueError("one path per token")
    quoted = ", ".join(f'"{t}"' for t in tokens or [])
    quoted_paths = ", ".join(json.dumps(p) for p in paths or [])
    body_line = f"wrk.body = {json.dumps(body)}" if body is not None else ""
    script_text = _SCRIPT % {"tokens": quoted, "paths": quoted_paths, "method": method, "body": body_line}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_text)
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        completed = subprocess.run(
            [binary, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
        )
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        Path(script.name).unlink(missing_ok=True)
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / elapsed * 100
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        socket_errors=data["socket_errors"],
        non2xx=data["non2xx"],
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        client_cpu_percent=cpu,
    )
