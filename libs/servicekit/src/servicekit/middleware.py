"""Pure ASGI middleware: request id and a body-size cap (the gateway is not the only guard)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.errors import PROBLEM_JSON
from servicekit.logging import get_logger

REQUEST_ID_HEADER = "x-request-id"
log = get_logger("servicekit.request")


class RequestContextMiddleware:
    """Takes the gateway's request id (or makes one), binds it to logs and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")[:128]
        request_id = raw if raw.isprintable() and raw else uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if status >= 500:
                log.error("request_failed", path=scope["path"], status=status)
            else:
                log.debug(
                    "request", path=scope["path"], status=status, ms=round((time.perf_counter() - started) * 1000, 2)
                )
            structlog.contextvars.unbind_contextvars("request_id")


class BodyLimitMiddleware:
    """413 problem+json when a body exceeds `max_bytes`, by header or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._reject(send)
            return
        received = 0
        started = rejected = False

        async def guarded_receive() -> Message:
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer 413 now: whatever the app makes of the aborted body is dropped.
                    if not started and not rejected:
                        rejected = True
                        await self._reject(send)
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except _BodyTooLarge:
            pass

    async def _reject(self, send: Send) -> None:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"request body exceeds {self.max_bytes} bytes",
        }
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})


class _BodyTooLarge(Exception):
    pass
