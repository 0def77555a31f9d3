"""The kit's server (servicekit.service.serve, uvicorn) as a process: SIGTERM/SIGINT set `app.state.draining`,
open streams end with their last frame, and only then does the lifespan's exit run."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

APP = """
import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse


@asynccontextmanager
async def lifespan(app):
    if app.title == "broken":
        raise RuntimeError("no database")
    yield
    print("lifespan exit", flush=True)


def build(title):
    app = FastAPI(title=title, lifespan=lifespan)
    app.state.draining = asyncio.Event()

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.post("/echo")
    async def echo(request: Request):
        return {"length": len(await request.body())}

    @app.get("/stream")
    async def stream():
        async def frames():
            yield b"event: hello\\ndata:\\n\\n"
            await app.state.draining.wait()
            await asyncio.sleep(0.3)  # still answering: the lifespan's exit must wait for it
            print("stream ended", flush=True)
            yield b"event: close\\ndata:\\n\\n"

        return StreamingResponse(frames(), media_type="text/event-stream")

    return app
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp_path: Path, title: str) -> tuple[subprocess.Popen[str], str]:
    (tmp_path / "scratch_app.py").write_text(APP)
    port = _free_port()
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from scratch_app import build; "
        "from servicekit.service import serve; serve(build(sys.argv[2]), host='127.0.0.1', port=int(sys.argv[3]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path), title, str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc, base = _start(tmp_path, "scratch")
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer within 30 s"
                time.sleep(0.1)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_drains_open_streams_before_the_lifespan_exits(
    server: tuple[subprocess.Popen[str], str], signum: signal.Signals
) -> None:
    proc, base = server
    with httpx.stream("GET", f"{base}/stream", timeout=10) as response:
        chunks = response.iter_bytes()
        assert next(chunks) == b"event: hello\ndata:\n\n"
        proc.send_signal(signum)
        rest = b"".join(chunks)  # the stream ends on its own, with its last frame
    assert rest == b"event: close\ndata:\n\n"
    stdout, _stderr = proc.communicate(timeout=15)  # uvicorn re-raises the signal once it is done
    # In that order, and nothing else on stdout: no access log, no server chatter.
    assert stdout.splitlines() == ["stream ended", "lifespan exit"]


def _exchange(base: str, raw: bytes, answers: int) -> bytes:
    """`raw` on one connection; what came back once `answers` status lines have arrived."""
    host, port = base.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        while received.count(b"HTTP/1.1 ") < answers or not received.endswith(b"}"):
            data = sock.recv(65536)
            assert data, received
            received += data
    return received


def test_head_answers_headers_only_and_the_connection_stays_usable(server: tuple[subprocess.Popen[str], str]) -> None:
    _proc, base = server
    received = _exchange(base, b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2)
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405")  # FastAPI routes GET only; the server sends no body with it
    assert rest.startswith(b"HTTP/1.1 200")
    assert rest.endswith(b'{"status":"ok"}')


def test_a_chunked_body_is_read_whole(server: tuple[subprocess.Popen[str], str]) -> None:
    _proc, base = server
    chunked = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    received = _exchange(base, chunked, 1)
    assert received.startswith(b"HTTP/1.1 200")
    assert received.endswith(b'{"length":11}')


def test_a_failed_lifespan_startup_exits_non_zero(tmp_path: Path) -> None:
    proc, _base = _start(tmp_path, "broken")
    _stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "RuntimeError: no database" in stderr  # the cause reaches the log
