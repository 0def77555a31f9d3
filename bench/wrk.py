"""The compiled load generator every bench uses: `wrk` (Debian package `wrk`). A Python client
tops out near 500 requests/s on this machine and would set the pace instead of the server.

    result = run_wrk(url, seconds=10, connections=32, tokens=[...])
    result.rps, result.p50_ms, result.p99_ms, result.client_cpu_percent

    # Requests prepared in Python (each its own path, headers and body), each sent exactly once:
    result = run_wrk_prepared(url, [Prepared(path, body, headers), ...], max_seconds=60)
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

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
%(done)s
"""

# Prints the summary as JSON (every script's `done`).
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nWRK_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"non2xx":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""

# Prepared requests, read once per thread from a file of `<length>\n<raw HTTP request>` records;
# thread t of T takes records t, t+T, ... (wrk's threads have a Lua state each). `delay()` runs
# before every request of a connection: it reserves the next one, and once a thread's share is
# all reserved it parks the connection for good, so nothing is sent twice. A thread prints
# WRK_THREAD_DONE when its share is all answered; run_wrk_prepared then stops wrk (SIGINT), whose
# measured duration therefore ends with the last response. A `request()` call with nothing
# reserved (wrk's check of the script, or a resend after a socket error) gets the last request again.
_PREPARED_SCRIPT = """
local threads = %(threads)d
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
local own, reserved, handed, answered = {}, 0, 0, 0
function init(args)
  local file = assert(io.open(%(file)s, "rb"))
  local data = file:read("*a")
  file:close()
  local pos, n = 1, 0
  while pos <= #data do
    local newline = data:find("\\n", pos, true)
    local length = tonumber(data:sub(pos, newline - 1))
    if n %% threads == tid then own[#own + 1] = data:sub(newline + 1, newline + length) end
    n = n + 1
    pos = newline + 1 + length
  end
  if #own == 0 then io.write("WRK_THREAD_DONE\\n"); io.stdout:flush() end
end
function delay()
  reserved = reserved + 1
  if %(once)s and reserved > #own then return 1e9 end
  return 0
end
function request()
  if handed < reserved then handed = handed + 1 end
  return own[((math.max(handed, 1) - 1) %% #own) + 1]
end
function response(status, headers, body)
  answered = answered + 1
  if answered == #own then io.write("WRK_THREAD_DONE\\n"); io.stdout:flush() end
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
    script_text = _SCRIPT % {
        "tokens": quoted,
        "paths": quoted_paths,
        "method": method,
        "body": body_line,
        "done": _DONE,
    }
    with tempfile.TemporaryDirectory(prefix="wrk-") as scratch:
        script = Path(scratch) / "script.lua"
        script.write_text(script_text)
        return _run(
            [binary, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script), url]
        )


@dataclass(frozen=True)
class Prepared:
    """One request as wrk will send it: its own path, headers and body."""

    path: str
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"

    def raw(self, host: str) -> bytes:
        """The HTTP/1.1 request on the wire."""
        body = self.body.encode()
        headers = {"Host": host, **self.headers, "Content-Length": str(len(body))}
        head = f"{self.method} {self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode() + b"\r\n" + body


def run_wrk_prepared(
    url: str,
    requests: Sequence[Prepared],
    *,
    max_seconds: float,
    connections: int = 32,
    threads: int = 2,
    once: bool = True,
) -> WrkResult:
    """Send `requests` (to `url`'s host) through wrk. With `once`, each exactly once: wrk is
    stopped when every response is in, and its duration and rate are those of the whole set
    (`max_seconds` only bounds a run that stalls). Without, they are cycled for `max_seconds`."""
    binary = require_wrk()
    if len(requests) < threads:
        raise ValueError("fewer requests than wrk threads")
    host = urlsplit(url).netloc
    with tempfile.TemporaryDirectory(prefix="wrk-") as scratch:
        records = Path(scratch) / "requests.bin"
        with records.open("wb") as out:
            for request in requests:
                raw = request.raw(host)
                out.write(f"{len(raw)}\n".encode() + raw)
        script = Path(scratch) / "script.lua"
        script.write_text(
            _PREPARED_SCRIPT % {"threads": threads, "file": json.dumps(str(records)), "once": str(once).lower()} + _DONE
        )
        command = [
            binary,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(max_seconds))}s",
            "--timeout=60s",  # every request is to be answered, however slowly (wrk's 2 s counts an error)
            "-s",
            str(script),
            url,
        ]
        return _run(command, stop_when_done=threads if once else None)


def _run(command: list[str], *, stop_when_done: int | None = None) -> WrkResult:
    """Run wrk; with `stop_when_done`, SIGINT it (it then prints its summary) once that many
    threads printed WRK_THREAD_DONE. Raises if wrk fails or prints no summary."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        lines: list[str] = []
        done = 0
        for line in iter(proc.stdout.readline, ""):
            lines.append(line)
            if stop_when_done is not None and line.startswith("WRK_THREAD_DONE"):
                done += 1
                if done == stop_when_done:
                    proc.send_signal(signal.SIGINT)
        stderr = proc.stderr.read()
        if proc.wait() != 0:
            raise RuntimeError(f"wrk failed ({proc.returncode}):\n{''.join(lines)}\n{stderr}")
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stdout = "".join(lines)
    summary = next((ln for ln in stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if summary is None:
        raise RuntimeError(f"wrk printed no summary:\n{stdout}\n{stderr}")
    data = json.loads(summary.removeprefix("WRK_JSON "))
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
