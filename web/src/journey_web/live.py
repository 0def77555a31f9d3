"""The live dashboard for the browser: a cookie-authenticated relay of the dashboard's
Server-Sent Events.

EventSource cannot send an Authorization header, and the bearer token never reaches the
browser. So the browser's EventSource opens `GET /live` here (the session cookie is its
credential, same origin); the web app opens `GET /api/v1/dashboard/me/stream` through the
gateway with the student's token and passes every version on, rendered with the same template
as the page (the browser swaps the HTML in; no second renderer in JavaScript). `Last-Event-ID`
goes upstream, so a reconnecting browser resumes from the version it has; heartbeats are passed
on; the stream ends when the browser goes, the upstream ends, or this process begins to stop."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from journey_web.deps import StudentDep, templates

router = APIRouter()

STREAM_PATH = "/api/v1/dashboard/me/stream"
LAST_EVENT_ID = re.compile(r"[0-9]{1,18}")


def _frame(event: str, data: str, event_id: str | None = None) -> bytes:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return ("\n".join(lines) + "\n\n").encode()


def render_panel(snapshot: dict[str, object]) -> str:
    return templates.get_template("_dashboard.html").render(d=snapshot).strip()


async def _relay(request: Request, upstream: httpx.Response) -> AsyncIterator[bytes]:
    draining = getattr(request.app.state, "draining", None)
    frame: dict[str, str] = {}
    data: list[str] = []
    try:
        async for line in upstream.aiter_lines():
            if draining is not None and draining.is_set():
                yield _frame("close", "")
                return
            if line.startswith(":"):
                yield f"{line}\n\n".encode()  # heartbeat: keeps every hop open
                continue
            if line:
                key, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if key == "data":
                    data.append(value)
                else:
                    frame[key] = value
                continue
            event = frame.get("event", "message")
            if event in ("snapshot", "resync") and data:
                snapshot = json.loads("\n".join(data))
                yield _frame("snapshot", render_panel(snapshot), frame.get("id"))
            elif event == "close":
                yield _frame("close", "")
                return
            frame, data = {}, []
    except httpx.HTTPError:
        # The upstream went away (the gateway or the dashboard stopping): the browser reconnects.
        return
    finally:
        await upstream.aclose()


@router.get("/live")
async def live(request: Request, student: StudentDep) -> Response:
    headers = {**student.api.headers, "Accept": "text/event-stream"}
    last_event_id = request.headers.get("last-event-id")
    # Passed on only in the dashboard's own form: "²" is a digit to isdigit() (and not ASCII, a
    # 500 here), and a version it refuses would end the stream with a 422 instead of resuming.
    if last_event_id and LAST_EVENT_ID.fullmatch(last_event_id):
        headers["Last-Event-ID"] = last_event_id
    client: httpx.AsyncClient = request.app.state.stream_http
    upstream = await client.send(client.build_request("GET", STREAM_PATH, headers=headers), stream=True)
    if upstream.status_code != 200:
        await upstream.aclose()
        # EventSource gives up on a non-200 answer; the page says live updates stopped.
        return Response(status_code=401 if upstream.status_code == 401 else 502)
    return StreamingResponse(
        _relay(request, upstream),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
