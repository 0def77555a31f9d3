"""The kit's pure ASGI middleware: the request id, request metrics, and the guard that keeps
strings PostgreSQL cannot store out of every request. Body size is capped by the framework's own
`max_body_size` per route (servicekit.app), and by the guard for the JSON bodies it reads first."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.errors import PROBLEM_JSON, status_title
from servicekit.events.envelope import TRACEPARENT_PATTERN
from servicekit.http_metrics import HttpMetrics
from servicekit.logging import get_logger, loggable_path
from servicekit.text_guard import find_unstorable, json_depth_exceeds, unstorable_reason

_TRACEPARENT = re.compile(TRACEPARENT_PATTERN)
log = get_logger("servicekit.request")


class ServiceMiddleware:
    """The kit's one pure ASGI middleware, outermost. Per HTTP request it:

    - takes the gateway's request id (or makes one), binds it and a valid `traceparent` to the
      logs, and echoes the id on the answer;
    - answers 422 when the path, a query parameter or a parsed JSON body holds what PostgreSQL
      cannot store (`guard`);
    - turns the framework's text/plain 413 into problem+json, and an unhandled error into a 500
      problem carrying the id;
    - counts every answer, its own included, by route template (`metrics`).

    One layer, not three: each layer wrapped `send` again and cost its frames on every request."""

    def __init__(self, app: ASGIApp, *, guard: UnstorableInputGuard | None = None, metrics: HttpMetrics | None = None):
        self.app = app
        self.guard = guard or UnstorableInputGuard()
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # The first of repeated headers wins, as in Starlette's `Request.headers`: the guard must
        # judge the Content-Type the framework parses by, not a second one sent to slip past it.
        headers = dict(reversed(scope["headers"]))
        raw = headers.get(b"x-request-id", b"").decode("latin-1")[:128]
        # Printable ASCII only: anything else would be echoed (as UTF-8) in other bytes than it came.
        request_id = raw if raw and raw.isascii() and raw.isprintable() else uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        traceparent = headers.get(b"traceparent", b"").decode("latin-1").strip().lower()
        if _TRACEPARENT.match(traceparent):  # carried on by the events this request emits
            structlog.contextvars.bind_contextvars(traceparent=traceparent)
        status = 0
        framework_413 = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, framework_413
            if message["type"] == "http.response.start":
                if message["status"] == 413 and _is_plain_text(message):
                    # The framework's own body cap (`max_body_size`) answers in text/plain.
                    framework_413 = True
                    return
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            elif framework_413:
                if not message.get("more_body", False):
                    framework_413 = False
                    await _send_problem(send_with_id, scope, 413, "request body is too large for this endpoint")
                return
            await send(message)

        try:
            try:
                receive = await self.guard.check(scope, headers, receive, send_with_id)
            except _Answered:
                return
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered here, not by the framework's outermost handler, so a 500 carries the id too.
            log.exception("unhandled_error", path=loggable_path(scope))
            if status:
                raise  # the response already started: all that is left is to drop the connection
            await _send_problem(send_with_id, scope, 500, "internal error")
        finally:
            if self.metrics is not None:
                self.metrics.record(scope, status or 500, started)
            if status >= 500:
                log.error("request_failed", path=loggable_path(scope), status=status)
            elif log.is_enabled_for(logging.DEBUG):  # the path and time are not worked out for nothing
                ms = round((time.perf_counter() - started) * 1000, 2)
                log.debug("request", path=loggable_path(scope), status=status, ms=ms)
            structlog.contextvars.unbind_contextvars("request_id", "traceparent")


def _is_plain_text(start: Message) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(b"text/plain") for k, v in start.get("headers", []))


MAX_JSON_DEPTH = 32
_JSON_TYPE = re.compile(rb"^application/([a-z0-9.+-]*\+)?json\s*(;|$)", re.IGNORECASE)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class UnstorableInputGuard:
    """422 problem+json naming the field when a path, query parameter or JSON body string holds
    a NUL or a lone surrogate (PostgreSQL refuses both), or a JSON body nests absurdly deep.

    Only bodies the framework will parse for a route are read (`parsed_body_routes`: path pattern
    and methods); a route that takes raw bytes (a signed webhook) verifies and judges them itself."""

    def __init__(
        self, parsed_body_routes: Iterable[tuple[re.Pattern[str], frozenset[str]]] = (), *, max_bytes: int = 1_048_576
    ) -> None:
        self.parsed_body_routes = tuple(parsed_body_routes)
        self.max_bytes = max_bytes

    async def check(self, scope: Scope, headers: dict[bytes, bytes], receive: Receive, send: Send) -> Receive:
        """The `receive` the app reads from (the body replayed when it was read here); raises
        `_Answered` once it has answered (422, 413) or the client went away."""
        problem = self._path_or_query_problem(scope)
        if problem is None and self._has_json_body(scope, headers):
            try:
                body = await _read_body(receive, self.max_bytes)
            except _ClientGone:
                raise _Answered from None
            except _TooLarge:
                await _send_problem(send, scope, 413, f"request body exceeds {self.max_bytes} bytes")
                raise _Answered from None
            problem = _json_body_problem(body)
            receive = _replay(body, receive)
        if problem is not None:
            await _send_unprocessable(send, scope, *problem)
            raise _Answered
        return receive

    def _path_or_query_problem(self, scope: Scope) -> tuple[str, str] | None:
        reason = unstorable_reason(scope["path"])
        if reason:
            return "path", reason
        query = scope.get("query_string", b"")
        if query:
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                reason = unstorable_reason(name) or unstorable_reason(value)
                if reason:
                    return f"query.{name.replace(chr(0), '?')}", reason
        return None

    def _has_json_body(self, scope: Scope, headers: dict[bytes, bytes]) -> bool:
        if scope["method"] not in _BODY_METHODS:
            return False
        content_type = headers.get(b"content-type")
        if content_type is not None and not _JSON_TYPE.match(content_type):
            return False  # the framework parses JSON only (and bodies without a content type)
        method, path = scope["method"], scope["path"]
        return any(method in methods and pattern.match(path) for pattern, methods in self.parsed_body_routes)


async def _read_body(receive: Receive, max_bytes: int) -> bytes:
    """The whole body, never more than `max_bytes` of it in memory."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: nothing to answer
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The app reads the body we already read, then whatever comes next (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _json_body_problem(body: bytes) -> tuple[str, str] | None:
    if not body:
        return None
    try:
        value = json.loads(body)
    except RecursionError:
        return "body", f"nests deeper than {MAX_JSON_DEPTH} levels"
    except ValueError:
        return None  # not JSON: the framework answers with its own 422 for that
    if json_depth_exceeds(value, MAX_JSON_DEPTH):
        return "body", f"nests deeper than {MAX_JSON_DEPTH} levels"
    found = find_unstorable(value)
    if found is None:
        return None
    location, reason = found
    field = ".".join(str(part).replace("\x00", "?") for part in location) or "body"
    return field, reason


async def _send_unprocessable(send: Send, scope: Scope, field: str, reason: str) -> None:
    field = _printable(field)[:200]
    errors = [{"field": field, "message": reason}]
    await _send_problem(send, scope, 422, f"invalid request: {field} {reason}", errors=errors)


def _printable(text: str) -> str:
    """`text` without what the answer cannot carry: a NUL, or a lone surrogate (not UTF-8)."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "?")


async def _send_problem(send: Send, scope: Scope, status: int, detail: str, **extra: Any) -> None:
    """A problem+json answer from middleware, below the framework's own error handlers, in their
    shape (the same title for a status, the path as `instance`)."""
    problem = {"type": "about:blank", "title": status_title(status), "status": status, "detail": detail}
    payload = json.dumps({**problem, "instance": _printable(scope.get("path", "")), **extra}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class _Answered(Exception):
    """The guard answered the request itself (or the client left): the app is not called."""


class _ClientGone(Exception):
    pass


class _TooLarge(Exception):
    pass
